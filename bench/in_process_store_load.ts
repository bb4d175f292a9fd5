/**
 * The relay-records suite's in-process reference: the record store's own
 * HTTP handler (`createPkarrStore`) called directly with `Request`s, no
 * socket and no process between: what the store itself costs per PUT
 * (signature check, bookkeeping) and per GET.
 * @module
 */
import { createPkarrStore } from "../core/discovery/mod.ts";
import type { HttpLoadRequest, HttpSourceTask } from "./http_source_load.ts";
import type { LoadLane } from "./load_lanes.ts";

const BASE = "http://relay.invalid";

/**
 * A runner for {@linkcode runLanes} that sends each task's requests to one
 * in-memory store, as from the task's source address.
 * @param maxRecords The store's capacity (default the relay's).
 */
export function inProcessStoreRunner(
  maxRecords?: number,
): (task: HttpSourceTask, lane: LoadLane) => Promise<void> {
  const store = createPkarrStore({ maxRecords });
  return async (task, lane) => {
    const info = { remoteAddr: { hostname: task.localAddress ?? "127.0.0.1" } };
    for (const request of task.requests) {
      if (lane.expired()) return;
      const started = performance.now();
      const response = await store.handler(toRequest(request), info);
      await response.arrayBuffer();
      lane.record(String(response.status), performance.now() - started);
    }
  };
}

function toRequest(request: HttpLoadRequest): Request {
  return new Request(`${BASE}${request.path}`, {
    method: request.method,
    body: request.body ? request.body.slice() : undefined,
    headers: request.body ? { "content-length": String(request.body.length) } : undefined,
  });
}
