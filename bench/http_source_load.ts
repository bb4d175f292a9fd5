/**
 * HTTP load from one source address: one keep-alive connection from that
 * address sends its requests one after the other, each answer counted by
 * status. Run on the lanes of `load_lanes.ts`, many sources at once.
 * @module
 */
import { Http1Connection } from "./http1_connection.ts";
import type { LoadLane } from "./load_lanes.ts";

/** One request. */
export interface HttpLoadRequest {
  /** `GET` or `PUT`. */
  method: "GET" | "PUT";
  /** Path and query. */
  path: string;
  /** The body of a PUT. */
  body?: Uint8Array;
}

/** The requests of one source. */
export interface HttpSourceTask {
  /** Local address to send from; the system's choice when absent. */
  localAddress?: string;
  /** Its requests, in order (may be lazy: the lane stops at the deadline). */
  requests: Iterable<HttpLoadRequest>;
}

/**
 * The task runner for {@linkcode runLanes}: connects to `host:port` from the
 * task's address and sends its requests, reconnecting once when the server
 * closed the connection between two requests (keep-alive expiry).
 * @param host Server address.
 * @param port Server port.
 * @example
 * ```ts
 * import { runLanes } from "./load_lanes.ts";
 * const tasks = [{ localAddress: "127.1.0.1", requests: [{ method: "GET" as const, path: "/ping" }] }];
 * await runLanes(tasks, 1, 5_000, httpSourceRunner("127.0.0.1", 3340));
 * ```
 */
export function httpSourceRunner(
  host: string,
  port: number,
): (task: HttpSourceTask, lane: LoadLane) => Promise<void> {
  return async (task, lane) => {
    const open = () => Http1Connection.open({ host, port, localAddress: task.localAddress });
    let connection = await open();
    try {
      for (const request of task.requests) {
        if (lane.expired()) return;
        const started = performance.now();
        let response;
        try {
          response = await connection.request(request.method, request.path, request.body);
        } catch (error) {
          // An idle connection the server closed: once more on a new one, else give up.
          if (!/closed by the server/.test((error as Error).message)) throw error;
          connection.close();
          connection = await open();
          response = await connection.request(request.method, request.path, request.body);
        }
        lane.record(String(response.status), performance.now() - started);
        if (response.closes) {
          connection.close();
          connection = await open();
        }
      }
    } finally {
      connection.close();
    }
  };
}
