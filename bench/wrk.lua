-- wrk script for one scenario, filled in by bench/loadgen.py: replays REQUESTS in turn (each thread starting
-- at its own place) and prints one JSON line with the figures when done.
local REQUESTS = {
  --REQUESTS--
}
local formatted = {}
local index = 0
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  for i, r in ipairs(REQUESTS) do
    formatted[i] = wrk.format(r.method, r.path, r.headers, r.body)
  end
  index = ((id or 0) * 7) % #formatted
end

function request()
  index = index % #formatted + 1
  return formatted[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect, e.read,
    e.write, e.status, e.timeout))
end
