/**
 * The bundled chat page: wires the webchannel client to the DOM. All text from the gateway goes
 * in through textContent, never as HTML, so a reply cannot inject markup into the page.
 */
import { WebchannelClient, type ClientEvent, type ClientState } from './client.js';
import { Conversation, type Entry } from './store.js';

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page is missing #${id}`);
  return element as T;
}

const status = byId('status');
const e2eBadge = byId('e2e');
const reconnect = byId<HTMLButtonElement>('reconnect');
const scroller = byId('scroller');
const transcript = byId<HTMLOListElement>('transcript');
const pairingForm = byId<HTMLFormElement>('pairing-form');
const pairingCode = byId<HTMLInputElement>('pairing-code');
const chatForm = byId<HTMLFormElement>('chat-form');
const message = byId<HTMLTextAreaElement>('message');

const STATUS_TEXT: Record<ClientState, string> = {
  disconnected: 'disconnected',
  connecting: 'connecting…',
  pairing: 'not paired',
  paired: 'connected',
  chatting: 'Claude is answering…',
};

const conversation = new Conversation();
const client = new WebchannelClient({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
  storage: localStorage,
  onEvent,
});

function onEvent(event: ClientEvent): void {
  if (event.kind === 'state') return showState(event.state);
  if (event.kind === 'reconnecting') {
    status.textContent = `reconnecting in ${Math.round(event.delayMs / 1000)} s…`;
    return;
  }
  if (conversation.apply(event)) render();
}

function showState(state: ClientState): void {
  status.textContent = STATUS_TEXT[state];
  pairingForm.hidden = state !== 'pairing';
  chatForm.hidden = state !== 'paired' && state !== 'chatting';
  reconnect.hidden = state !== 'disconnected';
  e2eBadge.hidden = !client.e2e;
  if (state === 'pairing') pairingCode.focus();
  if (state === 'paired') message.focus();
}

function el(tag: string, className: string, text?: string): HTMLElement {
  const element = document.createElement(tag);
  element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function renderEntry(entry: Entry): HTMLElement {
  switch (entry.kind) {
    case 'user':
      return el('li', 'msg user', entry.content);
    case 'assistant': {
      const item = el('li', 'msg assistant');
      for (const chunk of entry.progress) item.append(el('div', 'progress', chunk));
      if (entry.undecryptable) item.append(el('div', 'failure', `${entry.undecryptable} part(s) could not be decrypted`));
      if (entry.final !== undefined) item.append(el('div', 'final', entry.final));
      if (entry.failure) item.append(el('div', 'failure', entry.failure));
      if (entry.final === undefined && !entry.failure) item.classList.add('pending');
      return item;
    }
    case 'tool': {
      const item = el('li', 'msg tool', `tool: ${entry.name}`);
      item.append(el('pre', '', JSON.stringify(entry.arguments, null, 2)));
      if (entry.result) item.append(el('pre', entry.result.ok ? '' : 'failure', entry.result.text));
      return item;
    }
    case 'approval':
      return renderApproval(entry);
    case 'notice':
      return el('li', entry.error ? 'notice error' : 'notice', entry.text);
  }
}

function renderApproval(entry: Extract<Entry, { kind: 'approval' }>): HTMLElement {
  const item = el('li', 'msg approval', `Claude asks to run ${entry.action}`);
  if (entry.reason) item.append(el('pre', '', entry.reason));
  if (entry.approved !== undefined) {
    item.append(el('div', 'progress', entry.approved ? 'approved' : 'denied'));
  } else if (entry.requestId !== undefined) {
    const requestId = entry.requestId;
    for (const approved of [true, false]) {
      const button = el('button', '', approved ? 'Allow' : 'Deny') as HTMLButtonElement;
      button.type = 'button';
      button.addEventListener('click', () => {
        client.respondToApproval(requestId, approved);
        conversation.answerApproval(requestId, approved);
        render();
      });
      item.append(button);
    }
  }
  return item;
}

function render(): void {
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
  transcript.replaceChildren(...conversation.entries.map(renderEntry));
  // Follow the stream only if the reader has not scrolled up to read something.
  if (atBottom) transcript.lastElementChild?.scrollIntoView({ block: 'end' });
  e2eBadge.hidden = !client.e2e;
}

pairingForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void client.pair(pairingCode.value);
  pairingCode.value = '';
});

function sendMessage(): void {
  const text = message.value.trim();
  if (!text) return;
  const requestId = client.send(text);
  if (requestId === undefined) return;
  conversation.addUser(requestId, text);
  message.value = '';
  render();
}

chatForm.addEventListener('submit', (event) => {
  event.preventDefault();
  sendMessage();
});
message.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    sendMessage();
  }
});
reconnect.addEventListener('click', () => client.connect());

client.connect();
