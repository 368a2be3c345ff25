/** Start: get an access token from the session cookie (how a reload stays logged in), then route. */

import "./styles.css";
import { forgetMe } from "./account";
import { layout } from "./layout";
import { navigate, route, startRouter } from "./router";
import { onSessionLost, refreshSession } from "./session";
import { forgotView } from "./views/forgot";
import { loginView } from "./views/login";
import { profileView } from "./views/profile";
import { registerView } from "./views/register";
import { resetView } from "./views/reset";
import { threadView } from "./views/thread";
import { threadsView } from "./views/threads";
import { verifyView } from "./views/verify";

route("/", threadsView, true);
route("/t/:id", threadView, true);
route("/profile", profileView, true);
route("/login", loginView, false);
route("/register", registerView, false);
route("/forgot-password", forgotView, false);
route("/verify", verifyView, false);
route("/reset-password", resetView, false);

onSessionLost(() => {
  forgetMe();
  navigate("/login", { replace: true });
});

async function start(): Promise<void> {
  try {
    await refreshSession();
  } catch {
    /* the server is unreachable or busy: start logged out; logging in will say what is wrong */
  }
  startRouter(layout);
}

void start();
