/**
 * Signaling: the blocks peers exchange to find each other. manual mode's offer
 * and answer are pasted by a person; the same armor serves other channels.
 *
 * ```ts
 * import { decodeOffer, encodeOffer, newOfferSecrets } from "./mod.ts";
 * const text = await encodeOffer({ ...newOfferSecrets(), source: "tcp://127.0.0.1:22",
 *   credentials: { ufrag: "abcd", pwd: "0123456789012345678901" }, candidates: [] });
 * const offer = await decodeOffer(text);
 * ```
 * @module
 */
export { BLOCK_FORMAT_VERSION, BlockError, hasCompleteBlock, MAX_BLOCK_TEXT } from "./armor.ts";
export {
  ANSWER_LABEL,
  decodeAnswer,
  decodeOffer,
  encodeAnswer,
  encodeOffer,
  type IceParameters,
  type ManualAnswer,
  manualCredential,
  type ManualOffer,
  newAnswerSecret,
  newOfferSecrets,
  OFFER_LABEL,
} from "./manual_blocks.ts";
// Types of IceParameters' fields, defined by core/nat.
export type { CandidateType, IceCandidate, IceCredentials } from "../nat/mod.ts";
