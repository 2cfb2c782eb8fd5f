/** Shorter passphrases are refused: the keyring is only as strong as what unlocks it. */
const MIN_LENGTH = 12;

/**
 * The keyring's passphrase (`cube serve --unlock`): typed at a terminal without echo, else the first
 * line of standard input (`cube serve --role=manager --unlock < /run/keys/cube`).
 */
export async function readPassphrase(prompt: string): Promise<string> {
  const passphrase = process.stdin.isTTY ? await typed(prompt) : await firstLine();
  if (passphrase.length < MIN_LENGTH) throw new Error(`the keyring passphrase must be at least ${MIN_LENGTH} characters`);
  return passphrase;
}

async function firstLine(): Promise<string> {
  const decoder = new TextDecoder();
  const reader = Bun.stdin.stream().getReader();
  let text = "";
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    text += decoder.decode(next.value, { stream: true });
    if (text.includes("\n")) break;
  }
  reader.releaseLock();
  return text.split(/\r?\n/)[0] ?? "";
}

async function typed(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  let text = "";
  try {
    for await (const chunk of stdin) {
      for (const ch of (chunk as Buffer).toString("utf8")) {
        if (ch === "\r" || ch === "\n") return text;
        if (ch === "\u0003") throw new Error("interrupted");
        text = ch === "\u007f" || ch === "\b" ? [...text].slice(0, -1).join("") : text + ch;
      }
    }
    return text;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
}
