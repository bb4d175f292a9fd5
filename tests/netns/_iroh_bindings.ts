/**
 * Loads the iroh JavaScript bindings (npm `@number0/iroh` 1.1.0) for the interop test's
 * peers, typed as far as they use them.
 *
 * Why the platform package and not `@number0/iroh` itself: the main package's only code
 * is a loader that picks one of eleven per-platform optional dependencies, and some of
 * those (android-arm-eabi, win32-x64-msvc, ...) were never published at 1.1.0. npm skips
 * a missing optional dependency; Deno 2.9 resolves every one for a portable lockfile and
 * fails ("npm package '@number0/iroh-android-arm-eabi' does not exist", denoland/deno
 * #36597). So we pin the linux-x64-gnu binary of the same release, which is exactly what
 * that loader would `require` here, and declare the slice of its API we call.
 * @module
 */
import { createRequire } from "node:module";
// Puts the package in the module graph (and the lockfile), so `require` below finds it in
// Deno's npm cache. ESM cannot import a `.node` addon itself; only `require` can.
import "@number0/iroh-linux-x64-gnu/package.json" with { type: "json" };

/** Platforms whose binary is pinned (deno.test.json); elsewhere the interop test skips. */
export const IROH_PLATFORM = { os: "linux", arch: "x86_64" } as const;

/** An iroh EndpointId (Ed25519 public key). */
export interface IrohEndpointId {
  toString(): string;
}

/** The outgoing half of a QUIC stream. */
export interface IrohSendStream {
  writeAll(buf: number[]): Promise<void>;
  finish(): Promise<void>;
}

/** The incoming half of a QUIC stream. */
export interface IrohRecvStream {
  read(sizeLimit: number): Promise<number[]>;
}

/** One network path of a connection, as the bindings snapshot it. */
export interface IrohPathSnapshot {
  isSelected: boolean;
  remoteAddr: string;
  isIp: boolean;
  isRelay: boolean;
  stats: { udpTxDatagrams: number; udpRxDatagrams: number };
}

/** An established iroh connection. */
export interface IrohConnection {
  remoteId(): IrohEndpointId;
  openBi(): Promise<{ send: IrohSendStream; recv: IrohRecvStream }>;
  acceptBi(): Promise<{ send: IrohSendStream; recv: IrohRecvStream }>;
  paths(): IrohPathSnapshot[];
  close(errorCode: bigint, reason: number[]): void;
  closed(): Promise<string>;
}

/** An incoming connection attempt. */
export interface IrohIncoming {
  remoteAddr(): Promise<{ kind: string; addr?: string }>;
  accept(): Promise<{ connect(): Promise<IrohConnection> }>;
}

/** A bound iroh endpoint. */
export interface IrohEndpoint {
  id(): IrohEndpointId;
  online(): Promise<void>;
  connect(addr: unknown, alpn: number[]): Promise<IrohConnection>;
  acceptNext(): Promise<IrohIncoming | null>;
  close(): Promise<void>;
}

/** A builder; a preset must be applied first. */
export interface IrohEndpointBuilder {
  alpns(alpns: number[][]): void;
  relayMode(mode: unknown): void;
  bindAddr(addr: string): void;
  /** The endpoint's key: its 32 seed bytes. */
  secretKey(seed: number[]): void;
  bind(): Promise<IrohEndpoint>;
}

/** The module's exports this test uses. */
export interface IrohBindings {
  Endpoint: { builder(): IrohEndpointBuilder };
  /** Crypto provider only: no n0 DNS, no pkarr publishing, no public relays. */
  presetMinimal(builder: IrohEndpointBuilder): void;
  /** n0's defaults: among them DNS lookups of `_iroh.<z32>.dns.iroh.link` through the system resolver. */
  presetN0(builder: IrohEndpointBuilder): void;
  RelayMode: { customFromUrls(urls: string[]): unknown };
  EndpointId: { fromString(s: string): IrohEndpointId };
  EndpointAddr: new (id: IrohEndpointId, relayUrl?: string, addresses?: string[]) => unknown;
  setLogLevel(level: "Trace" | "Debug" | "Info" | "Warn" | "Error" | "Off"): void;
}

/**
 * Loads the native module.
 * @throws {Error} on another platform, or when the binary cannot be loaded.
 */
export function loadIroh(): IrohBindings {
  if (Deno.build.os !== IROH_PLATFORM.os || Deno.build.arch !== IROH_PLATFORM.arch) {
    throw new Error(
      `Cannot load iroh: only the ${IROH_PLATFORM.os}-${IROH_PLATFORM.arch} binary is pinned`,
    );
  }
  return createRequire(import.meta.url)("@number0/iroh-linux-x64-gnu") as IrohBindings;
}
