// Kubeconfig bytes as text, and back, without losing a byte. The file is decoded strictly: a byte order
// mark stays in the text (as U+FEFF, which encodes back to the same three bytes), CRLF and trailing
// whitespace are just characters, and bytes that are not UTF-8 are refused rather than turned into
// U+FFFD. kubectl refuses such a file too ("yaml: invalid leading UTF-8 octet"), so refusing costs
// nothing that worked, and it means every character we hand to the patcher encodes back to the exact
// bytes it came from.
import { isAscii } from 'node:buffer';
import { KubeconfigError } from './errors';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** 1-based line of a character offset. */
export function lineNumberAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function lineOfByte(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let extra: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      extra = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      extra = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      extra = 3;
      min = 0x10000;
    } else return i;
    let value = b & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
      value = (value << 6) | (next & 0x3f);
    }
    if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return i;
    i += extra + 1;
  }
  return -1;
}

// What go-yaml (kubectl's YAML reader) accepts anywhere in a file: tab, LF, CR, printable ASCII, NEL,
// and the printable planes. Anything else makes kubectl refuse the whole file ("control characters are
// not allowed"), while the `yaml` package reads on, so we refuse it too, where kubectl would.
const NOT_ALLOWED = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const ASCII_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
// go-yaml reads NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR as line breaks (YAML 1.1); `yaml` (YAML 1.2)
// does not. Where they appear, the two disagree on where lines start, so no line-level reasoning about
// the file can be trusted.
const YAML11_BREAK = /[\x85\u2028\u2029]/;

function describeChar(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The text of a kubeconfig's bytes, or a KubeconfigError naming the line when the bytes are not text
 * kubectl can read. The text encodes back to exactly `bytes` with encodeKubeconfig.
 */
export function decodeKubeconfig(bytes: Uint8Array, file: string): string {
  // Most kubeconfigs are ASCII; then every byte is its own character and only controls need looking for.
  if (isAscii(bytes)) {
    const ascii = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    const control = ASCII_CONTROL.exec(ascii);
    if (control !== null) checkCharacters(ascii, file);
    return ascii;
  }
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const utf16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
    throw new KubeconfigError(
      'malformed',
      file,
      utf16
        ? `The kubeconfig ${file} is saved as UTF-16, which AKS Sign-In does not rewrite. Save it as UTF-8 (kubectl writes UTF-8); it was left untouched.`
        : `The kubeconfig ${file} has bytes that are not UTF-8 on line ${lineOfByte(bytes, at)} (byte ${at}), so kubectl cannot read it either. Fix or remove them by hand; the file was left untouched.`,
    );
  }
  checkCharacters(text, file);
  return text;
}

/** Refuses text with characters kubectl refuses anywhere in a file (control characters). */
export function checkCharacters(text: string, file: string): void {
  const bad = NOT_ALLOWED.exec(text);
  if (bad !== null) {
    throw new KubeconfigError(
      'malformed',
      file,
      `The kubeconfig ${file} has a control character (${describeChar(bad[0])}) on line ${lineNumberAt(text, bad.index)}, which kubectl refuses ("control characters are not allowed"). Remove it by hand; the file was left untouched.`,
    );
  }
}

/** Whether the text holds a line break that only YAML 1.1 readers (kubectl) see, and where. */
export function yaml11BreakAt(text: string): number {
  const match = YAML11_BREAK.exec(text);
  return match === null ? -1 : match.index;
}

/** Refuses to edit text in which kubectl and `yaml` would see different lines. */
export function checkLineBreaks(text: string, file: string): void {
  const at = yaml11BreakAt(text);
  if (at !== -1) throw yaml11BreakError(text, file, at);
}

export function yaml11BreakError(text: string, file: string, at: number): KubeconfigError {
  return new KubeconfigError(
    'unverifiable',
    file,
    `The kubeconfig ${file} has a ${describeChar(text[at] ?? '')} character on line ${lineNumberAt(text, at)}, which kubectl reads as a line break and other YAML readers do not, so AKS Sign-In cannot be sure how kubectl reads the lines it would change. Replace it with a plain line break or a space; the file was left untouched.`,
  );
}

export function encodeKubeconfig(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/**
 * The bytes of `original` with `edits` applied, copying the untouched bytes instead of re-encoding the
 * whole text when the original is ASCII (so character offsets are byte offsets).
 */
export function encodeEdited(original: Uint8Array, text: string, edits: readonly Edit[], patched: () => string): Buffer {
  if (!isAscii(original) || text.length !== original.length) return encodeKubeconfig(patched());
  const source = Buffer.from(original.buffer, original.byteOffset, original.byteLength);
  const parts: Buffer[] = [];
  let position = 0;
  for (const edit of [...edits].sort((a, b) => a.start - b.start)) {
    parts.push(source.subarray(position, edit.start), Buffer.from(edit.text, 'utf8'));
    position = edit.end;
  }
  parts.push(source.subarray(position));
  return Buffer.concat(parts);
}

/** The line ending the file uses: CRLF when its first line ends with one. */
export function dominantEol(text: string): string {
  const newline = text.indexOf('\n');
  return newline > 0 && text[newline - 1] === '\r' ? '\r\n' : '\n';
}

/** Offset of the start of the line holding `offset`. */
export function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just past the line break of the line holding `offset` (or the end of the text). */
export function nextLineStart(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

export interface Edit {
  /** Offsets in the text the edit applies to; the characters in [start, end) are replaced. */
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping edits, in any order. */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let result = '';
  let position = 0;
  for (const edit of sorted) {
    if (edit.start < position) throw new Error('overlapping kubeconfig edits');
    result += text.slice(position, edit.start) + edit.text;
    position = edit.end;
  }
  return result + text.slice(position);
}
