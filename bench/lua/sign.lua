-- Intake: sign POSTs alone, each with a new e-mail address. A 302 to the thank-you page is a
-- stored signature; anything else is counted as an error.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup
local n = 0

function request()
  n = n + 1
  return common.sign_request(id, n)
end

function response(status, headers, body)
  if status == 302 then
    accepted = (accepted or 0) + 1
  else
    refused = (refused or 0) + 1
  end
end

function done(summary, latency, requests)
  common.done(summary, latency, {"accepted", "refused"})
end
