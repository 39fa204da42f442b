-- Confirm: POSTs the confirmation links the SMTP sink actually received (as the confirm page's
-- button does), each once. bench/run writes the links of the mail phase to BENCH_LINKS, one a
-- line; thread i of T takes every T-th line. A thread out of links GETs count.json instead and
-- counts it as "exhausted", so the runner can say the links ran out before the time did.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup
local links = nil
local n = 0
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local count_path = "/petitions/" .. common.petition .. "/count.json"

local function load_links()
  links = {}
  local line_no = 0
  for line in io.lines(os.getenv("BENCH_LINKS")) do
    if line_no % nthreads == id then
      table.insert(links, line)
    end
    line_no = line_no + 1
  end
end

function request()
  if links == nil then load_links() end
  n = n + 1
  local link = links[n]
  if link then
    return common.confirm_request(link, id, n)
  end
  return wrk.format("GET", count_path)
end

function response(status, headers, body)
  if status == 200 and body:sub(1, 1) == "{" then
    exhausted = (exhausted or 0) + 1
  elseif status == 200 then
    confirms = (confirms or 0) + 1
  else
    local name = (status >= 500 and "e5xx") or ("e" .. status)
    errors = (errors or 0) + 1
    if name == "e403" or name == "e404" or name == "e409" or name == "e5xx" then
      _G[name] = (_G[name] or 0) + 1
    end
  end
end

function done(summary, latency, requests)
  common.done(summary, latency, {"confirms", "exhausted", "errors", "e403", "e404", "e409", "e5xx"})
end
