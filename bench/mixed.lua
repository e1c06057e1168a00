-- wrk script of npm run bench:memory: the four scenarios of npm run bench in turn (list, get, create, toggle), each
-- request the next user's. Arguments after wrk's "--": READERS CREATORS BODY, the two users' files (one line per
-- user: the token, a tab, and for readers one of that user's task ids) and the create's JSON body.
-- The requests are formatted once, in init: the load generator does as little as it can per request.

local requests = {}
local index = 1
local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("first", threads)
end

local function users(file)
    local found = {}
    for line in io.lines(file) do
        local token, id = line:match("^([^\t]+)\t?(.*)$")
        found[#found + 1] = { token = token, id = id }
    end
    return found
end

function init(args)
    local readers, creators, body = users(args[1]), users(args[2]), args[3]
    for i = 1, math.min(#readers, #creators) do
        local reader = { ["Authorization"] = "Bearer " .. readers[i].token }
        local creator = { ["Authorization"] = "Bearer " .. creators[i].token, ["Content-Type"] = "application/json" }
        requests[#requests + 1] = wrk.format("GET", "/api/tasks", reader)
        requests[#requests + 1] = wrk.format("GET", "/api/tasks/" .. readers[i].id, reader)
        requests[#requests + 1] = wrk.format("POST", "/api/tasks", creator, body)
        requests[#requests + 1] = wrk.format("PATCH", "/api/tasks/" .. readers[i].id .. "/complete", reader)
    end

    -- Threads start at different users (a multiple of 4: each still goes list, get, create, toggle).
    index = ((first or 1) - 1) * 4 * 499 % #requests + 1
end

function request()
    local r = requests[index]
    index = index % #requests + 1
    return r
end

-- One line the harness reads: counts, and latency in microseconds.
function done(summary, latency, _)
    local e = summary.errors
    io.write(string.format(
        "BENCH_RESULT {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d," ..
        "\"bad_status\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"timeout\":%d}\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
        e.status, e.connect, e.read, e.write, e.timeout))
end
