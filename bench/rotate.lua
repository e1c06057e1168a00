-- wrk script of npm run bench: every request is the next user's, in turn, so a server cannot answer from one
-- token or one row. Arguments after wrk's "--": METHOD PATH BODY FILE [CONNECTIONS HOLD_MS], where PATH may hold
-- {id}, BODY is "-" for none, and FILE has one line per user: the token, a tab, and one of that user's task ids.
-- With CONNECTIONS (the thread's) and HOLD_MS, the first request of each connection waits HOLD_MS once its
-- connection is open, so that the load starts on connections already open: the harness leaves that time out.
-- The requests are formatted once, in init: the load generator does as little as it can per request.

local requests = {}
local index = 1
local threads = 0
local holding = 0
local holdMs = 0

function setup(thread)
    threads = threads + 1
    thread:set("first", threads)
end

function init(args)
    local method, path, body, file = args[1], args[2], args[3], args[4]
    if body == "-" then
        body = nil
    end

    for line in io.lines(file) do
        local token, id = line:match("^([^\t]+)\t?(.*)$")
        local headers = { ["Authorization"] = "Bearer " .. token }
        if body then
            headers["Content-Type"] = "application/json"
        end

        requests[#requests + 1] = wrk.format(method, path:gsub("{id}", id), headers, body)
    end

    -- Threads start at different users.
    index = ((first or 1) - 1) * 499 % #requests + 1
    holding = tonumber(args[5]) or 0
    holdMs = tonumber(args[6]) or 0
end

-- wrk asks before every request once the script has this function; a connection sends its first request before
-- any answer can come back, so the thread's first CONNECTIONS calls are its connections' first requests.
function delay()
    if holding > 0 then
        holding = holding - 1
        return holdMs
    end

    return 0
end

function request()
    local r = requests[index]
    index = index % #requests + 1
    return r
end

-- Two lines the harness reads: counts and latency in microseconds; and every latency recorded, as
-- "microseconds:count" pairs in ascending order, so that the latencies of several runs can be put together.
function done(summary, latency, _)
    local e = summary.errors
    io.write(string.format(
        "BENCH_RESULT {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d," ..
        "\"bad_status\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"timeout\":%d}\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
        e.status, e.connect, e.read, e.write, e.timeout))

    local recorded = {}
    for i = 1, #latency do
        local us, count = latency(i)
        recorded[i] = us .. ":" .. count
    end

    io.write("BENCH_LATENCY " .. table.concat(recorded, " ") .. "\n")
end
