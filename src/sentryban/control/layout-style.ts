import { styleText } from 'node:util';

// Colour only on a terminal, never with NO_COLOR set to anything but "" (https://no-color.org) nor on TERM=dumb.
// The escapes are Node's own (util.styleText); this module alone decides whether to use them (Node 20's own test
// would take an empty NO_COLOR as set, and looks at process.stdout whatever the text is for).
export type Tone = 'bold' | 'good' | 'warn' | 'bad' | 'dim';
export type Paint = (tone: Tone, text: string) => string;

const FORMATS: Record<Tone, Parameters<typeof styleText>[0]> = {
  bold: 'bold',
  good: 'green',
  warn: 'yellow',
  bad: 'red',
  dim: 'dim',
};

export const isColourWanted = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean =>
  stream.isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';

export const paintFor = (colour: boolean): Paint =>
  colour
    ? (tone, text) => (text === '' ? text : styleText(FORMATS[tone], text, { validateStream: false }))
    : (_tone, text) => text;
