-- wrk script: POST client_credentials token requests authenticated with
-- private_key_jwt, each with its own pre-signed assertion (a jti is single use).
--   AL_BODIES  file with one application/x-www-form-urlencoded body per line
-- Each response must be 200 with an access_token, else it is an error.
-- done() prints the last line:  RESULT rps=... ok_rps=... p50_ms=... errors=...

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"

ok = 0
bad_status = 0
bad_body = 0
first_err = ""

local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local bodies = {}
local next_body = 1
function init(args)
  local step = #threads > 0 and #threads or 1
  local n = 0
  for line in io.lines(os.getenv("AL_BODIES")) do
    n = n + 1
    -- thread k takes lines k, k + step, ...: no two threads share an assertion
    if (n - (id or 1)) % step == 0 then table.insert(bodies, line) end
  end
end

function request()
  local body = bodies[next_body]
  next_body = next_body + 1
  if next_body > #bodies then next_body = 1 end  -- exhausted: replays, counted as errors
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 and body and string.find(body, '"access_token"', 1, true) then
    ok = ok + 1
  else
    if status ~= 200 then bad_status = bad_status + 1 else bad_body = bad_body + 1 end
    if first_err == "" then
      first_err = tostring(status) .. " " .. string.sub(body or "", 1, 200):gsub("%s+", " ")
    end
  end
end

function done(summary, latency, requests)
  local okc, bs, bb, ferr = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    okc = okc + (t:get("ok") or 0)
    bs = bs + (t:get("bad_status") or 0)
    bb = bb + (t:get("bad_body") or 0)
    local fe = t:get("first_err")
    if ferr == "" and fe and fe ~= "" then ferr = fe end
  end
  local e = summary.errors
  local sock = e.connect + e.read + e.write + e.timeout
  local secs = summary.duration / 1e6
  if ferr ~= "" then io.stderr:write("FIRST_ERROR " .. ferr .. "\n") end
  io.write(string.format(
    "RESULT rps=%.1f ok_rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d requests=%d ok=%d bad_status=%d bad_body=%d sock_errors=%d seconds=%.2f\n",
    summary.requests / secs, okc / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    bs + bb + sock, summary.requests, okc, bs, bb, sock, secs))
end
