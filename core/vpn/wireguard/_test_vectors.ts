/**
 * Test vector data for the Noise core. Not part of the engine: only tests import it.
 *
 * The IKpsk2 vector is the "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s" entry of the
 * cacophony test vectors (haskell-cryptography/cacophony, as shipped in
 * mcginty/snow's tests/vectors/cacophony.txt at commit
 * 8ac60f51cfe3e010c84f0a454cc575ad9204fa12). Messages 0 and 1 are the
 * handshake (ephemeral key, encrypted static key, encrypted payload); from 2 on
 * they are transport messages, initiator and responder taking turns.
 * @module
 */

/** One Noise IKpsk2 test vector, hex strings as published. */
export interface NoiseVector {
  protocolName: string;
  prologue: string;
  psk: string;
  initStatic: string;
  initEphemeral: string;
  respStatic: string;
  respEphemeral: string;
  /** The responder's static public key as the initiator knows it in advance. */
  initRemoteStatic: string;
  handshakeHash: string;
  messages: { payload: string; ciphertext: string }[];
}

/** cacophony's Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s vector. */
export const CACOPHONY_IKPSK2: NoiseVector = {
  protocolName: "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s",
  prologue: "4a6f686e2047616c74",
  psk: "54686973206973206d7920417573747269616e20706572737065637469766521",
  initStatic: "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1",
  initEphemeral: "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a",
  respStatic: "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893",
  respEphemeral: "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b",
  initRemoteStatic: "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62",
  handshakeHash: "f5191b875290abcd41347ac3622d9679688a7e980229cb937ef748336cfde0e5",
  messages: [
    {
      payload: "4c756477696720766f6e204d69736573",
      ciphertext:
        "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944001e21de9f98ddd8" +
        "e2ad57527207feb56253c9c94a9e496782ecfcb2a75fbcaf1b52948cc48daefe660c62119ab50009" +
        "80c84831215f2441eba616548e832985464cf17e51ee93109008399a21f7e13f",
    },
    {
      payload: "4d757272617920526f746862617264",
      ciphertext:
        "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843cb765f2caef0751b" +
        "8f007572dab0322217755c0632f365717edbf34d33e87a",
    },
    {
      payload: "462e20412e20486179656b",
      ciphertext: "8153ca9833bc3c1b91a7e66e5f4d4f5b59bf9e64c2f20d15f0bba7",
    },
    {
      payload: "4361726c204d656e676572",
      ciphertext: "07af0c9c86e1b4e80f36b04ff7688d51141af3debd0332f0a705ef",
    },
    {
      payload: "4a65616e2d426170746973746520536179",
      ciphertext: "6ab1467c0448cc78394494abaaf23afce0e234315d6e2624dcbfa8a21c1c4d073d",
    },
    {
      payload: "457567656e2042f6686d20766f6e2042617765726b",
      ciphertext: "dfc346c0d2296ae6cf1acf6f12b8456a1dba228cf8d8b774aacf1c47fc53aa80ebc7a4c292",
    },
  ],
};

/**
 * Hash(Construction) for WireGuard's construction string, as a published
 * constant (rustyguard's CONSTRUCTION_HASH, and the value every
 * implementation precomputes as its initial chaining key).
 */
export const WIREGUARD_INITIAL_CHAINING_KEY =
  "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36";
