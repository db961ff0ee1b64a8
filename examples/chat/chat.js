// The chat example: rooms with the chat, typing and reaction messages of examples/chat.schema.json,
// on the Portcullis JS client. Everything the gateway sends is shown with textContent, never as HTML
// (the gateway also strips markup, but a page must not depend on that).
//
// The token: from the page's URL fragment (#token=..., which never reaches a server or a log; the
// dev banner prints such a link), kept in sessionStorage so a reload keeps it, or from a
// window.portcullisChatToken() function an embedding app defines. A real app would fetch it from
// its own backend in getToken().
import { PortcullisClient } from './portcullis.js';

const ROOMS = [
  { name: 'lobby', id: '00000000-0000-4000-8000-000000000042' },
  { name: 'general', id: '3f0c9a52-8a43-4a8e-b2de-1c3d2b7d9e10' },
  { name: 'random', id: '7b1e4c2d-0f6a-4b8e-9c3d-2a1b0c9d8e7f' },
];
const TYPING_EVERY_MS = 2500; // one typing notice per burst of keystrokes: well inside the message rate
const TYPING_SHOWN_MS = 4000;

const $ = (id) => document.getElementById(id);

function takeTokenFromUrl() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem('portcullis-chat-token', decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname + location.search); // out of the address bar and bookmarks
  }
}

async function getToken() {
  if (typeof window.portcullisChatToken === 'function') return window.portcullisChatToken();
  const token = sessionStorage.getItem('portcullis-chat-token');
  if (!token) throw new Error('no token');
  return token;
}

/** The token's subject, for display and as the author name (the gateway verifies the token, not this). */
function subjectOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload)).sub;
  } catch {
    return undefined;
  }
}

function notice(text) {
  const el = $('notice');
  el.textContent = text ?? '';
  el.hidden = !text;
}

function describeError(error) {
  return error && error.code ? `${error.code}: ${error.message}` : String(error);
}

class ChatRoom {
  constructor(client, room, me) {
    this.client = client;
    this.room = room;
    this.me = me;
    this.channel = `room:${room.id}`;
    this.reactions = new Map(); // offset of a message -> count
    this.lastTypingSent = 0;
    this.typingTimer = undefined;
  }

  async join() {
    $('room-title').textContent = `# ${this.room.name}`;
    $('messages').replaceChildren();
    $('typing').textContent = '';
    let since;
    try {
      const page = await this.client.history(this.channel, { limit: 50 });
      for (const { offset, data } of page.publications) this.show(data, offset, false);
      since = { offset: page.offset, epoch: page.epoch };
    } catch (error) {
      notice(`history: ${describeError(error)}`);
    }
    if (this.left) return;
    this.sub = this.client.subscribe(this.channel, (data, meta) => this.show(data, meta.offset, true), since ? { since } : {});
    this.sub.on('gap', () => this.gap());
    try {
      await this.sub.ready;
    } catch (error) {
      notice(`cannot join ${this.room.name}: ${describeError(error)}`);
    }
  }

  leave() {
    this.left = true;
    this.sub?.unsubscribe();
    clearTimeout(this.typingTimer);
  }

  /** Messages were lost for good (the history did not cover a reconnect): say so, and reload the room. */
  gap() {
    const li = document.createElement('li');
    li.className = 'gap';
    li.textContent = 'Some messages could not be recovered; reloading the room.';
    $('messages').append(li);
    this.leave();
    current = new ChatRoom(this.client, this.room, this.me);
    current.join();
  }

  show(data, offset, live) {
    if (!data || data.roomId !== this.room.id) return;
    if (data.type === 'chat') {
      const li = document.createElement('li');
      li.dataset.offset = String(offset);
      const author = document.createElement('span');
      author.className = 'author';
      author.textContent = data.user ?? '?';
      const text = document.createElement('span');
      text.className = 'content';
      text.textContent = data.content ?? '';
      const react = document.createElement('button');
      react.className = 'react';
      react.type = 'button';
      react.title = 'react with a thumbs-up';
      react.textContent = this.reactionLabel(offset);
      react.addEventListener('click', () => this.react(offset));
      li.append(author, text, react);
      $('messages').append(li);
      li.scrollIntoView({ block: 'end' });
      if (data.user !== this.me) $('typing').textContent = '';
    } else if (data.type === 'reaction' && Number.isInteger(data.target)) {
      this.reactions.set(data.target, (this.reactions.get(data.target) ?? 0) + 1);
      const button = document.querySelector(`#messages li[data-offset="${data.target}"] .react`);
      if (button) button.textContent = this.reactionLabel(data.target);
    } else if (data.type === 'typing' && live && data.user !== this.me) {
      $('typing').textContent = `${data.user} is typing…`;
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => ($('typing').textContent = ''), TYPING_SHOWN_MS);
    }
  }

  reactionLabel(offset) {
    const count = this.reactions.get(offset) ?? 0;
    return count ? `👍 ${count}` : '👍';
  }

  publish(data) {
    return this.client.publish(this.channel, { roomId: this.room.id, user: this.me, ...data });
  }

  async say(content) {
    await this.publish({ type: 'chat', content });
  }

  typing() {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_EVERY_MS) return;
    this.lastTypingSent = now;
    this.publish({ type: 'typing' }).catch(() => {}); // a lost typing notice does not matter
  }

  react(offset) {
    this.publish({ type: 'reaction', content: '👍', target: offset }).catch((error) => notice(describeError(error)));
  }
}

let current;

function start() {
  takeTokenFromUrl();
  const token = sessionStorage.getItem('portcullis-chat-token');
  if (!token && typeof window.portcullisChatToken !== 'function') {
    $('token-form').hidden = false;
    $('app').hidden = true;
    $('token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem('portcullis-chat-token', $('token-input').value.trim());
      location.reload();
    });
    return;
  }
  const me = token ? subjectOf(token) : undefined;
  $('user').textContent = me ? `signed in as ${me}` : '';

  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const client = new PortcullisClient({ url, getToken, sharedAcrossTabs: `portcullis-chat:${me ?? 'anonymous'}` });
  window.portcullisChat = { client }; // for the browser console

  client.on('state', ({ state }) => {
    $('state').textContent = state;
    $('state').dataset.state = state;
    if (state === 'connected') notice();
  });
  client.on('connected', ({ user }) => {
    if (user) $('user').textContent = `signed in as ${user}`;
  });
  client.on('refused', ({ status, error, retryAfterMs }) => {
    const wait = retryAfterMs ? `; retrying in ${Math.ceil(retryAfterMs / 1000)} s` : '';
    const hint = status === 401 ? ' (get a fresh token: ./portcullis token ...)' : '';
    notice(`Refused by the gateway: ${status} ${error ?? ''}${wait}${hint}`);
  });
  client.on('disconnected', ({ code, reason, willReconnect }) => {
    if (!willReconnect) notice(`Disconnected for good: ${code} ${reason || ''} (reload the page to connect again)`);
  });

  const list = $('rooms');
  for (const room of ROOMS) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = `# ${room.name}`;
    button.dataset.room = room.name;
    button.addEventListener('click', () => {
      for (const other of list.querySelectorAll('button')) other.removeAttribute('aria-current');
      button.setAttribute('aria-current', 'true');
      current?.leave();
      current = new ChatRoom(client, room, me);
      current.join();
    });
    const li = document.createElement('li');
    li.append(button);
    list.append(li);
  }
  list.querySelector('button').click();

  $('content').addEventListener('input', () => current?.typing());
  $('composer').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('content');
    const content = input.value;
    if (!content.trim() || !current) return;
    try {
      await current.say(content);
      input.value = '';
      notice();
    } catch (error) {
      notice(`Not sent: ${describeError(error)}`);
    }
  });
}

start();
