-- One request, repeated on every connection; what it is comes from the environment (bench/machinery/loadgen.py
-- sets it). With BENCH_PATHS (space-separated), each request goes to the next of those paths in turn.
-- At the end the summary is written as JSON to BENCH_RESULT: requests, errors and latency percentiles (us).

wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.body = os.getenv("BENCH_BODY")
local content_type = os.getenv("BENCH_CONTENT_TYPE")
if content_type then
  wrk.headers["Content-Type"] = content_type
end
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization then
  wrk.headers["Authorization"] = authorization
end

local paths = os.getenv("BENCH_PATHS")
if paths then
  local rotation = {}
  for path in paths:gmatch("%S+") do
    rotation[#rotation + 1] = path
  end
  local next_index = 0
  request = function()
    next_index = next_index % #rotation + 1
    return wrk.format(nil, rotation[next_index])
  end
end

local result_path = os.getenv("BENCH_RESULT")

done = function(summary, latency, requests)
  local errors = summary.errors
  local out = assert(io.open(result_path, "w"))
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean
  ))
  out:close()
end
