-- wrk script for one scenario, filled in by bench/loadgen.py: replays REQUESTS in turn from the offset given
-- after `--` (threads interleave: thread t sends offset+t, offset+t+threads, ...), so a run does not repeat
-- what its warm-up already sent; prints one JSON line with the figures when done.
local REQUESTS = {}
--REQUESTS--
local formatted = {}
local index = 0
local stride = 1
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  for i, r in ipairs(REQUESTS) do
    formatted[i] = wrk.format(r.method, r.path, r.headers, r.body)
  end
  index = (tonumber(args[1]) or 0) + (id or 0)
  stride = tonumber(args[2]) or 1
end

function request()
  local r = formatted[index % #formatted + 1]
  index = index + stride
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect, e.read,
    e.write, e.status, e.timeout))
end
