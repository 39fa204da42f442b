-- Shared by the benchmark's wrk scripts: the CSRF pair fetched once by bench/run (a Django CSRF
-- token stays valid with its cookie for any number of POSTs), unique e-mail addresses, and a
-- done() that prints one JSON line the runner parses (wrk's own summary has no p95).
local M = {}

M.cookie = os.getenv("BENCH_CSRF_COOKIE") or ""
M.token = os.getenv("BENCH_CSRF_TOKEN") or ""
M.petition = os.getenv("BENCH_PETITION") or "1"
M.run = os.getenv("BENCH_RUN") or "r"
M.regions = {"E12000001", "E12000002", "E12000003", "E12000007", "S92000003", "W92000004"}
-- Signers at the large providers (limited only relative to the petition's traffic, none of them
-- near its share), from BENCH_NETWORKS synthetic /24 networks behind the trusted proxy.
M.providers = {"gmail.com", "yandex.ru", "mail.ru", "outlook.com", "yahoo.com"}
M.networks = tonumber(os.getenv("BENCH_NETWORKS") or "16384")

local threads = {}
local next_id = 0

function M.setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- The client's address as the trusted proxy reports it (X-Forwarded-For, one hop): a new one for
-- each request, its /24 walking through all M.networks networks before any repeats (each
-- thread starting elsewhere), its host changing too.
function M.client_address(id, n)
  local k = (id * 7919 + n) % M.networks
  return string.format("%d.%d.%d.%d", 11 + math.floor(k / 65536), math.floor(k / 256) % 256, k % 256, 1 + n % 254)
end

function M.sign_request(id, n)
  local region = M.regions[(n % #M.regions) + 1]
  -- Hyphens, not dots: Gmail addresses are deduplicated without their dots.
  local body = "csrfmiddlewaretoken=" .. M.token
    .. "&name=Bench+Signer+" .. n
    .. "&email=s" .. M.run .. "-" .. id .. "-" .. n .. "%40" .. M.providers[(n % #M.providers) + 1]
    .. "&region=" .. region .. "&display=counted"
  return wrk.format("POST", "/en/petitions/" .. M.petition .. "/sign/", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. M.cookie,
    ["X-Forwarded-For"] = M.client_address(id, n),
  }, body)
end

function M.confirm_request(path, id, n)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. M.cookie,
    ["X-Forwarded-For"] = M.client_address(id, n),
  }, "csrfmiddlewaretoken=" .. M.token)
end

function M.done(summary, latency, counters)
  local totals = {}
  for _, name in ipairs(counters or {}) do
    totals[name] = 0
    for _, thread in ipairs(threads) do
      totals[name] = totals[name] + (tonumber(thread:get(name)) or 0)
    end
  end
  local parts = {}
  for name, value in pairs(totals) do
    table.insert(parts, string.format('"%s": %d', name, value))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, "p95_us": %d, '
      .. '"p99_us": %d, "max_us": %d, "counters": {%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    table.concat(parts, ", ")))
end

return M
