-- End to end: each connection confirms a link the SMTP sink received when one is waiting, and
-- signs with a new address otherwise, so signing never outruns the e-mail pipeline by much.
-- The sink appends one JSON line per message to BENCH_MAIL_LOG; thread i of T takes every
-- T-th link so that no link is confirmed twice. A connection more than BENCH_MAX_AHEAD signatures
-- ahead of its links polls count.json instead, as a signer's open petition page would.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup
local n = 0
local line_no = 0
local log = nil
local pending = {}
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local max_ahead = tonumber(os.getenv("BENCH_MAX_AHEAD") or "400")
local received = 0
local count_path = "/petitions/" .. common.petition .. "/count.json"

local function poll_links()
  if log == nil then
    log = io.open(os.getenv("BENCH_MAIL_LOG"), "r")
    if log == nil then return end
    -- Only the mails of this phase: earlier phases' links are not this phase's to confirm.
    log:seek("set", tonumber(os.getenv("BENCH_MAIL_LOG_OFFSET") or "0"))
  end
  while true do
    local pos = log:seek()
    local line = log:read("*l")
    if line == nil then
      log:seek("set", pos)  -- clears end-of-file, so lines appended later are read
      return
    end
    if line:sub(-1) ~= "}" then  -- a line still being written: read it again next time
      log:seek("set", pos)
      return
    end
    line_no = line_no + 1
    if line_no % nthreads == id then
      local link = line:match('"link": "([^"]+)"')
      if link then
        table.insert(pending, link)
        received = received + 1
      end
    end
  end
end

function request()
  if #pending == 0 then poll_links() end
  local link = table.remove(pending, 1)
  if link then
    return common.confirm_request(link, id, received)
  end
  if n - received >= max_ahead then
    return wrk.format("GET", count_path)
  end
  n = n + 1
  return common.sign_request(id, n)
end

function response(status, headers, body)
  if status == 302 then
    signs = (signs or 0) + 1
  elseif status == 200 and body:sub(1, 1) == "{" then
    reads = (reads or 0) + 1
  elseif status == 200 then
    confirms = (confirms or 0) + 1
  else
    errors = (errors or 0) + 1
    local name = (status >= 500 and "e5xx") or ("e" .. status)
    if name == "e403" or name == "e404" or name == "e409" or name == "e5xx" then
      _G[name] = (_G[name] or 0) + 1
    end
  end
end

function done(summary, latency, requests)
  common.done(summary, latency, {"signs", "confirms", "reads", "errors", "e403", "e404", "e409", "e5xx"})
end
