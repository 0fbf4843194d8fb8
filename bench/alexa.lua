-- wrk script for bench/run.py: replays pre-signed Alexa requests round-robin.
-- The request file holds, per request: the Signature-256 header on one line, the body's
-- byte length on the next, then the body and a newline.
local cert_url = "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  requests = {}
  while true do
    local signature = file:read("*l")
    if not signature then break end
    local length = tonumber(file:read("*l"))
    local body = file:read(length)
    file:read(1)
    requests[#requests + 1] = wrk.format("POST", "/alexa", {
      ["Content-Type"] = "application/json",
      ["SignatureCertChainUrl"] = cert_url,
      ["Signature-256"] = signature,
    }, body)
  end
  file:close()
  index = offset % #requests
  bad = 0
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"response"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "bad": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad_total, e.connect + e.read + e.write + e.timeout))
end
