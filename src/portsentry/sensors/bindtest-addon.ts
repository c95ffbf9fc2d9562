import { loadAddon } from '../../core/addon.js';

// The loader of bindtest.node (native/bindtest.c, native/bindtest.h): synchronous socket() + bind() on the
// wildcard address + close(), no SO_REUSEADDR (1.2's smart-verify). Returns 0 (bound: the port is free), the bind
// errno, or -errno when no socket could be opened.
export type NativeBindTest = (udp: boolean, family: 4 | 6, port: number) => number;

const loaded = loadAddon<{ bindTest?: NativeBindTest }>('bindtest');
// null: the caller keeps Node's asynchronous listen()/bind() test.
export const nativeBindTest: NativeBindTest | null =
  typeof loaded.addon?.bindTest === 'function' ? loaded.addon.bindTest : null;
export const nativeBindTestStatus: string = loaded.why;
