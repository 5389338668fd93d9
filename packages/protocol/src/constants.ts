/**
 * Plain values of the bridge protocol, free of zod, for code that must start fast (the Stop hook
 * runs once per turn) and needs no validation.
 */

/** Largest bridge frame either side accepts; a bigger one is refused by `ws` before parsing. */
export const MAX_BRIDGE_FRAME_BYTES = 4 * 1024 * 1024;

/** Path of the Stop hook's endpoint on the bridge port. */
export const TURN_END_PATH = '/turn-end';
