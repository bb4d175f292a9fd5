/**
 * Files the user names: read with a size limit, so a wrong path is refused
 * before it is read whole.
 *
 * ```ts
 * import { readCappedTextFile } from "./mod.ts";
 * const text = await readCappedTextFile("server.toml", { what: "config file", maxBytes: 1 << 20 });
 * ```
 * @module
 */
export { readCappedTextFile } from "./capped_read.ts";
