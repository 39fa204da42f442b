-- Public reads: GET of one path (count.json or the petition page), as a browser polling it
-- would without a shared cache in front.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup
local path = os.getenv("BENCH_PATH")

function request()
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  common.done(summary, latency, {})
end
