/**
 * A failed connect said briefly: which path failed and why, named as the user
 * knows it (the `--server-addr` given, the relay URL, the discovery service),
 * one path at length and the others counted, so a reconnect line stays one
 * short line however many paths were tried.
 * @module
 */
import { AllAttemptsFailedError } from "../connect/mod.ts";
import { type AddressFailure, ConnectError } from "../transport/mod.ts";

/**
 * The paths a failed connect tried, each with why it failed, in the order
 * tried; nested races (a record's paths) are flattened. Undefined when `error`
 * is not about reaching paths (a refusal, a wrong key): its message is the cause.
 */
export function failedPaths(error: unknown): AddressFailure[] | undefined {
  if (error instanceof AllAttemptsFailedError) {
    if (error.failures.length === 0) return undefined;
    return error.failures.flatMap((failure) => pathsOf(failure.label, failure.error));
  }
  if (error instanceof ConnectError && error.failures.length > 0) return [...error.failures];
  return undefined;
}

function pathsOf(label: string, error: unknown): AddressFailure[] {
  return failedPaths(error) ?? [{ where: label, why: messageOf(error) }];
}

/**
 * Why a connect failed, in one short line: the first path that failed and its
 * reason, then how many more paths failed ("+2 more"), up to `shown` paths at
 * length (default 1). A failure that is not about paths gives its message.
 */
export function describeConnectFailure(error: unknown, shown = 1): string {
  const paths = failedPaths(error);
  if (paths === undefined) return messageOf(error);
  const listed = paths.slice(0, Math.max(1, shown)).map((path) => `${path.where}: ${path.why}`);
  const more = paths.length - listed.length;
  return `${listed.join("; ")}${more > 0 ? ` (+${more} more)` : ""}`;
}

/**
 * The error a connect that will not be retried ends with: a refusal or a wrong
 * key as it is; one unreachable address with its own advice; several paths as
 * at most three of them, so the line names what the user gave and stays short.
 */
export function finalConnectFailure(error: unknown): Error {
  if (!(error instanceof AllAttemptsFailedError)) {
    return error instanceof Error ? error : new Error(String(error));
  }
  if (failedPaths(error) === undefined) return error;
  return new Error(
    `Cannot reach the server by any path (${
      describeConnectFailure(error, 3)
    }); check that the server is running and reachable that way`,
    { cause: error },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
