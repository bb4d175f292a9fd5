/**
 * manual mode's signaling channels: blocks printed for the user to send and
 * pasted back (stdin or a file). They carry the ICE parameters core needs, plus
 * what manual mode adds: the source request and the secrets the session
 * credential is made of.
 * @module
 */
import {
  ICE_TIMEOUT_MS,
  type IceAnswer,
  type IceOffer,
  type SignalingChannel,
} from "../core/connect/mod.ts";
import { EndpointId } from "../core/identity/mod.ts";
import {
  ANSWER_LABEL,
  decodeAnswer,
  decodeOffer,
  encodeAnswer,
  encodeOffer,
  manualCredential,
  type ManualOffer,
  newAnswerSecret,
  newOfferSecrets,
  OFFER_LABEL,
} from "../core/signaling/mod.ts";
import { readBlock } from "./block_input.ts";
import type { Output } from "./output.ts";

/** The client's side: prints the offer, reads the server's answer. */
export class ManualClientChannel implements SignalingChannel<IceOffer, IceAnswer> {
  readonly #secrets = newOfferSecrets();
  readonly #source: string;
  readonly #out: Output;
  readonly #answerFile?: string;
  #answerSecret?: Uint8Array;
  #offerPrintedAt?: number;
  #answerReadAt?: number;

  /**
   * @param source the source request the offer carries
   * @param out where the offer is printed
   * @param answerFile read the answer from this file instead of stdin
   */
  constructor(source: string, out: Output, answerFile?: string) {
    this.#source = source;
    this.#out = out;
    this.#answerFile = answerFile;
  }

  /** Prints the offer block. */
  async send(offer: IceOffer): Promise<void> {
    const text = await encodeOffer({ ...this.#secrets, source: this.#source, ...offer.ice });
    this.#out.prompt(
      this.#answerFile === undefined
        ? "Send this offer to the server, then paste its answer here:"
        : `Send this offer to the server; its answer is read from '${this.#answerFile}':`,
    );
    this.#out.info(text);
    this.#offerPrintedAt = performance.now();
  }

  /**
   * From printing the offer to reading a complete answer block, in ms;
   * undefined until both happened. The server's wait starts in between.
   */
  get answerDelayMs(): number | undefined {
    if (this.#offerPrintedAt === undefined || this.#answerReadAt === undefined) return undefined;
    return this.#answerReadAt - this.#offerPrintedAt;
  }

  /**
   * Reads the answer block.
   * @throws {Error} with the server's reason when it refused the source.
   */
  async receive(): Promise<IceAnswer> {
    const block = await readBlock(ANSWER_LABEL, this.#answerFile);
    this.#answerReadAt = performance.now();
    const answer = await decodeAnswer(block, this.#secrets);
    if (!answer.accepted) {
      throw new Error(`server refused source ${this.#source}: ${answer.reason}`);
    }
    this.#answerSecret = answer.answerSecret;
    return {
      ice: { credentials: answer.credentials, candidates: answer.candidates },
      serverId: new EndpointId(answer.serverKey),
    };
  }

  /**
   * The session credential: proof of holding both blocks' secrets.
   * @throws {Error} before an answer was received.
   */
  credential(): Uint8Array {
    if (!this.#answerSecret) throw new Error("Cannot make the credential before the answer");
    return manualCredential(this.#secrets, this.#answerSecret);
  }
}

/** Decides whether an offer's source request is served; a reason when not. */
export type SourceCheck = (source: string) => Promise<string | undefined>;

/** The server's side: reads the offer, checks its source, prints the answer. */
export class ManualServerChannel implements SignalingChannel<IceAnswer, IceOffer> {
  readonly #out: Output;
  readonly #check: SourceCheck;
  readonly #offerFile?: string;
  readonly #answerSecret = newAnswerSecret();
  #offer?: ManualOffer;

  /**
   * @param out where the answer is printed
   * @param check refuses an offer's source with a reason, which the answer carries
   * @param offerFile read the offer from this file instead of stdin
   */
  constructor(out: Output, check: SourceCheck, offerFile?: string) {
    this.#out = out;
    this.#check = check;
    this.#offerFile = offerFile;
  }

  /**
   * Reads the offer and checks its source.
   * @throws {Error} after printing a refusal block when the source is not allowed.
   */
  async receive(): Promise<IceOffer> {
    // A paste prompt only when someone pastes: a file is read as it appears.
    this.#out.prompt(
      this.#offerFile === undefined
        ? "Paste the client's offer:"
        : `Waiting for the client's offer in '${this.#offerFile}'`,
    );
    const offer = await decodeOffer(await readBlock(OFFER_LABEL, this.#offerFile));
    const refusal = await this.#check(offer.source);
    if (refusal !== undefined) {
      this.#out.info(
        await encodeAnswer({ accepted: false, sessionId: offer.sessionId, reason: refusal }),
      );
      throw new Error(
        `Refused source ${offer.source}: ${refusal} (the answer above tells the client)`,
      );
    }
    this.#offer = offer;
    return { ice: { credentials: offer.credentials, candidates: offer.candidates } };
  }

  /** Prints the answer block. */
  async send(answer: IceAnswer): Promise<void> {
    const offer = this.#offer!;
    this.#out.prompt(
      `Source ${offer.source} allowed. Paste this answer into the client within ${
        ICE_TIMEOUT_MS / 1000
      } s:`,
    );
    this.#out.info(
      await encodeAnswer({
        accepted: true,
        sessionId: offer.sessionId,
        serverKey: answer.serverId.bytes,
        answerSecret: this.#answerSecret,
        ...answer.ice,
      }),
    );
  }

  /**
   * The credential the client must present.
   * @throws {Error} before an offer was received.
   */
  credential(): Uint8Array {
    if (!this.#offer) throw new Error("Cannot make the credential before the offer");
    return manualCredential(this.#offer, this.#answerSecret);
  }
}
