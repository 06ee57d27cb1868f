/** What a peer may make rtmpush print of its words, at most. */
const MAX_PEER_TEXT = 200;

/**
 * Text a server sent (a refusal's description, a status code), made safe to print: control characters (terminal
 * escapes, OSC sequences that retitle a window or write the clipboard) and bidirectional overrides become spaces,
 * and it is cut to 200 characters, so a hostile server can neither spoof a status line nor flood the output.
 */
export function peerText(raw: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  const clean = raw.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, ' ');
  return clean.length > MAX_PEER_TEXT ? `${clean.slice(0, MAX_PEER_TEXT)}…` : clean;
}
