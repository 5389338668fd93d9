/**
 * Claude Code screens the launcher recognises, matched against the rendered terminal
 * (TerminalScreen.text()). Each is either answered by the launcher (keys to type) or needs a
 * human, in which case the waiting turn fails with a message that names the screen and says how
 * to fix it.
 *
 * Every pattern was taken from a real render of Claude Code 2.1.330 (test/fixtures/screens/,
 * docs/claude-code.md). Patterns anchor on whole lines of the dialog chrome, so a chat message
 * that merely quotes a dialog ("← chan: Do you want to use this API key?") is not mistaken for it.
 *
 * Classify only once the PTY has been quiet for ~300 ms: the trust dialog is re-mounted about
 * 200 ms after it is first drawn and drops keys typed before that. Answers are computed from the
 * screen as it is now (the trust answer depends on the cursor), so classifying again and retrying
 * when nothing changed is safe; replaying an old answer is not: a second Down on the trust dialog
 * wraps round to "No, exit", and Down+Enter on the development-channels dialog picks "2. Exit".
 */
export type ScreenKind =
  | 'development_channels'
  | 'trust'
  | 'trust_refused'
  | 'api_key'
  | 'onboarding'
  | 'unable_to_connect'
  | 'login'
  | 'invalid_api_key'
  | 'bypass_permissions'
  | 'skip_permissions_root'
  | 'session_in_use'
  | 'resume_not_found'
  | 'resume_picker'
  | 'permission_prompt';

export interface ScreenMatch {
  kind: ScreenKind;
  /** Keys the launcher types to get past the screen; absent when a human must act. */
  answer?: string;
  /** What the user should do, for screens the launcher will not answer. */
  fix?: string;
}

export interface ClassifyOptions {
  /**
   * The workspace is trusted by configuration (--trust-workspace): only then does the
   * workspace-trust dialog get an answer. Default false.
   */
  trustWorkspace?: boolean;
  /** Look only for these kinds (once a session runs, only screens that can block a turn). */
  only?: ReadonlySet<ScreenKind>;
}

const ENTER = '\r';
const DOWN = '\x1b[B';

interface ScreenRule {
  kind: ScreenKind;
  /** All must match. */
  patterns: RegExp[];
  answer?: (text: string, options: ClassifyOptions) => string | undefined;
  fix?: string;
}

// Order matters: a message printed when Claude Code exits sits below the last frame of the
// dialog that caused it, so exit messages are tested before dialogs.
const RULES: ScreenRule[] = [
  {
    // Printed on exit after "No, exit" was chosen on the trust dialog (exit code 1).
    kind: 'trust_refused',
    patterns: [/^Claude Code didn't start because this folder isn't trusted\./m],
    fix:
      'the workspace-trust dialog was answered "No, exit". Start the gateway with --trust-workspace <dir>, ' +
      'or run `claude` in that directory once and choose "Yes, I trust this folder"',
  },
  {
    // `--session-id <uuid>` whose transcript already exists; printed before any dialog, exit 1.
    kind: 'session_in_use',
    patterns: [/^Error: Session ID \S+ is already in use\./m],
    fix:
      'a Claude session with this id already exists; it must be continued with --resume <id>, not started again ' +
      'with --session-id. Forget the stored session to start a fresh one',
  },
  {
    // `--resume <uuid>` with no transcript under ~/.claude/projects/<cwd>/; printed after the
    // development-channels dialog was answered, exit 1.
    kind: 'resume_not_found',
    patterns: [/^No conversation found with session ID: \S+/m],
    fix:
      "Claude Code has no transcript for the stored session (deleted, or the workspace moved: transcripts live in " +
      '~/.claude/projects/<workspace path>/<id>.jsonl); forget the stored session so a fresh one starts',
  },
  {
    kind: 'skip_permissions_root',
    patterns: [/--dangerously-skip-permissions cannot be used with root\/sudo privileges/],
    fix:
      'Claude Code refuses --dangerously-skip-permissions as root: run the gateway as an ordinary user, drop the flag ' +
      'from --claude-arg, or (only in a disposable container) set IS_SANDBOX=1',
  },
  {
    // First-run setup without an approved key checks connectivity to api.anthropic.com and exits
    // (code 1) when that fails; it ignores ANTHROPIC_BASE_URL.
    kind: 'unable_to_connect',
    patterns: [/^\s*Unable to connect to Anthropic services$/m],
    fix:
      "Claude Code's first-run setup could not reach Anthropic. Run `claude` once in a terminal with network access " +
      'and complete setup (log in, or approve ANTHROPIC_API_KEY), then retry',
  },
  {
    // "❯ 1. I am using this for local development" is preselected: Enter or "1" accept it, "2" or
    // Esc exit. Shown on every launch with --dangerously-load-development-channels, after the trust
    // and API-key dialogs; MCP servers start only once it is answered.
    kind: 'development_channels',
    patterns: [/WARNING: Loading development channels/, /^\s*(❯\s*)?1\. I am using this for local development$/m],
    // "1" picks the option wherever the cursor is, so it cannot choose Exit.
    answer: () => '1',
  },
  {
    // Options are unnumbered and "❯ No, exit" is preselected: Enter alone exits (code 1). Down
    // then Enter trusts; Down wraps, so from "Yes" a Down would move back to "No, exit".
    kind: 'trust',
    // Requiring the cursor line means a match always tells which option is selected.
    patterns: [/^\s*Accessing workspace:$/m, /^\s*❯\s*(No, exit|Yes, I trust this folder)$/m],
    answer: (text, { trustWorkspace }) => {
      if (!trustWorkspace) return undefined;
      return /^\s*❯\s*Yes, I trust this folder$/m.test(text) ? ENTER : DOWN + ENTER;
    },
    fix:
      'Claude Code asks whether to trust this workspace. Start the gateway with --trust-workspace <dir> to let it ' +
      'answer, or run `claude` in that directory once and choose "Yes, I trust this folder"',
  },
  {
    // "❯ No (recommended)" is preselected; Up then Enter would choose Yes.
    kind: 'api_key',
    patterns: [/^\s*Detected a custom API key in your environment$/m, /^\s*Do you want to use this API key\?$/m],
    fix:
      'Claude Code found ANTHROPIC_API_KEY but it was never approved for this user. Run `claude` once in a terminal ' +
      'and choose Yes, or add the last 20 characters of the key to customApiKeyResponses.approved in ~/.claude.json',
  },
  {
    // Shown before the development-channels dialog; "❯ No, exit" preselected, Down then Enter
    // accepts. Never answered for the user: accepting takes responsibility for unchecked commands.
    kind: 'bypass_permissions',
    patterns: [/WARNING: Claude Code running in Bypass Permissions mode/, /^\s*(❯\s*)?Yes, I accept$/m],
    fix:
      '--dangerously-skip-permissions asks for consent until it is accepted once. Run `claude ' +
      '--dangerously-skip-permissions` in a terminal and choose "Yes, I accept" (or set ' +
      '"skipDangerousModePermissionPrompt": true in ~/.claude/settings.json), or drop the flag',
  },
  {
    // First run (hasCompletedOnboarding unset): theme picker, then security notes, each Enter.
    kind: 'onboarding',
    patterns: [/^\s*Choose the text style that looks best with your terminal$|^\s*Security notes:$/m],
    fix:
      "Claude Code's first-run setup has not been completed for this user. Run `claude` once in a terminal and " +
      'finish it (theme, security notes, login), then retry',
  },
  {
    // No credentials at all: the channel message is shown with this error under it and in the
    // status line; no API request is made. Nothing hints at it before the first message.
    kind: 'login',
    patterns: [/Not logged in · (Please )?run \/login|^\s*Select login method/im],
    fix:
      'Claude Code has no credentials. Run `claude` in a terminal and log in with /login, or give the gateway an ' +
      'ANTHROPIC_API_KEY (approved once in a terminal), then retry',
  },
  {
    // The API answered 401. Claude Code retries 10 times (~3 minutes) before printing the final
    // message, so the retry status line is matched too.
    kind: 'invalid_api_key',
    patterns: [/Invalid API key · Fix external API key|^\s*\S?\s*401 .*· retrying in \d+s · attempt \d+\/\d+$/m],
    fix:
      'the Anthropic API rejected the key (401). Set a valid ANTHROPIC_API_KEY, or unset it to use your claude.ai ' +
      'login, then retry',
  },
  {
    // `--resume` with something that is not a session id opens the interactive picker.
    kind: 'resume_picker',
    patterns: [/^\s*Resume session$/m, /Type to search · /],
    fix: 'Claude Code was started with --resume and a value that is not a session id; pass the session UUID',
  },
  {
    // A tool outside --allowedTools in a mode that asks (--permission-mode default): "1. Yes"
    // allows once, Esc or "4. No" denies. Auto mode (the default since 2.1.x) does not ask.
    kind: 'permission_prompt',
    patterns: [/^\s*Do you want to proceed\?$/m, /^\s*(❯\s*)?1\. Yes$/m],
    fix:
      'Claude is waiting for permission to use a tool. Allow it up front with --claude-arg --allowedTools=<Tool>, ' +
      'or run Claude in auto permission mode',
  },
];

export function classifyScreen(text: string, options: ClassifyOptions = {}): ScreenMatch | undefined {
  for (const rule of RULES) {
    if (options.only && !options.only.has(rule.kind)) continue;
    if (!rule.patterns.every((p) => p.test(text))) continue;
    const match: ScreenMatch = { kind: rule.kind };
    const answer = rule.answer?.(text, options);
    if (answer !== undefined) match.answer = answer;
    else if (rule.fix !== undefined) match.fix = rule.fix;
    return match;
  }
  return undefined;
}
