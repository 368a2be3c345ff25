import { defineConfig } from "vite";

// The API the dev server forwards to (`npx vite`); the built files are served by the API itself.
const api = "http://127.0.0.1:8731";

export default defineConfig({
  root: ".",
  base: "/",
  build: {
    outDir: "../src/chorus/client/built",
    emptyOutDir: true,
    assetsDir: "assets",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
  },
  server: {
    proxy: {
      "/auth": api,
      "/accounts": api,
      "/threads": api,
    },
  },
});
