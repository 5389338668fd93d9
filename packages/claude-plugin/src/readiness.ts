/**
 * Decides when to tell the gateway `ready`. Claude Code can hand a channel notification to the
 * model before the reply tool is listed (claude-code-facts.md), so readiness means: Claude Code
 * has had its first tools/list answered, plus a settle delay. The gateway holds inbound messages
 * until it sees `ready` on the current connection, so every new connection needs it again.
 */
export class Readiness {
  private settled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly announce: () => void,
  ) {}

  /** Claude Code listed the tools; only the first listing starts the settle delay. */
  toolsListed(): void {
    if (this.settled || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.settled = true;
      this.announce();
    }, this.delayMs);
  }

  /** A hello_ack arrived; a connection made after readiness is announced on at once. */
  connected(): void {
    if (this.settled) this.announce();
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
