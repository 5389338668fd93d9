/**
 * What a person would see on Claude Code's terminal. Claude Code's TUI redraws with cursor moves,
 * so the raw byte stream with escape codes stripped runs words together; a headless terminal
 * emulator renders the real screen, which is what dialogs are matched against and what error
 * messages quote.
 */
import xterm from '@xterm/headless';

export class TerminalScreen {
  private readonly term: xterm.Terminal;

  constructor(cols = 120, rows = 40) {
    // Only the visible screen is ever read; lines scrolled off would be kept for nothing, up to
    // 12 bytes a cell in every session (docs/performance.md).
    this.term = new xterm.Terminal({ cols, rows, allowProposedApi: true, scrollback: 0 });
  }

  /** Resolves once the emulator has parsed `data` (xterm parses asynchronously). */
  write(data: string): Promise<void> {
    return new Promise((resolve) => this.term.write(data, resolve));
  }

  /** The visible screen, trailing blank lines dropped, each line right-trimmed. */
  text(): string {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < this.term.rows; y++) {
      // translateToString(true) only drops never-written cells; Claude Code paints padding spaces
      // (wrapped notices, diff previews), which would otherwise defeat `$`-anchored patterns.
      lines.push((buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '').trimEnd());
    }
    while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
    return lines.join('\n');
  }

  /** The last `n` non-empty screen lines, for error messages. */
  lastLines(n = 12): string {
    return this.text()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-n)
      .join('\n');
  }

  dispose(): void {
    this.term.dispose();
  }
}
