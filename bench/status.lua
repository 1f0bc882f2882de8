-- wrk script of the status benchmark: GET /api/tasks/{id} over random stored task ids.
-- Environment: IDS_FIRST, IDS_LAST (the id range), AUTH (an Authorization header, optional),
-- PACE_MS (wait between a connection's requests; 0 = closed loop).
local first = tonumber(os.getenv("IDS_FIRST"))
local last = tonumber(os.getenv("IDS_LAST"))
local auth = os.getenv("AUTH")
local pace = tonumber(os.getenv("PACE_MS") or "0")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(seed * 7919)
  if auth and auth ~= "" then
    wrk.headers["Authorization"] = auth
  end
end

function request()
  return wrk.format("GET", "/api/tasks/" .. math.random(first, last))
end

if pace > 0 then
  function delay()
    return math.random(math.floor(pace / 2), pace + math.floor(pace / 2))
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "JSON {\"requests\": %d, \"seconds\": %f, \"p50_ms\": %f, \"p95_ms\": %f, \"p99_ms\": %f, " ..
    "\"max_ms\": %f, \"non_2xx\": %d, \"socket_errors\": %d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
