import { Backoff } from './backoff.js';
import type { ConnectionOptions } from './connection.js';
import { Hub, type ToHub, type ToTabs } from './hub.js';
import { subject, type ResolvedSharing, type TabBus } from './tabs.js';

/** What the link needs of the client's options: the connection's, and the hand-over and backoff settings. */
export type LinkOptions = Omit<ConnectionOptions, 'backoff'> & { backoffBaseMs: number; backoffCapMs: number; handoverMs: number };

/**
 * The tab side of the hub: how one client reaches the hub that owns the socket. It leads (holds the
 * tab lock and runs its own {@link Hub}) or follows (speaks to the leader's hub over the
 * BroadcastChannel), decides whether it may share at all (only with the tabs of the same user), and
 * gives up following when the leader's connection turns out to be another user's. Apart from the
 * client because none of this is protocol: the client only sends {@link ToHub} messages and
 * receives {@link ToTabs} ones, whichever tab holds the socket.
 *
 * Runs on the page's (or Node's) single event loop: the client's calls, the bus's `onmessage`,
 * the lock grant and the token's subject all arrive as separate turns of it, so nothing here is
 * shared between threads. What a closed run started and is still awaited (the lock, the token)
 * is recognised by `#run` when it comes, and ignored.
 */
export class TabLink {
  #hub?: Hub;
  #bus?: TabBus;
  #abort?: AbortController;
  #release?: () => void;
  /** Between `start` and `stop`: a lock granted or a subject known outside of it is ignored. */
  #started = false;
  /** Counts `stop()`s: what a stopped run started and still awaits is ignored when it comes. */
  #run = 0;
  /** Sharing keyed by the token's subject: this tab's user, whom the leader's connection must be for. */
  #subject?: string;

  constructor(
    private readonly o: LinkOptions,
    private readonly sharing: ResolvedSharing | undefined,
    /** This tab's id: the hub addresses it with `to`. */
    private readonly tab: string,
    /** Every hub message meant for this tab or for all (the client filters by `to`). */
    private readonly receive: (m: ToTabs) => void,
    /** This tab's announcement (`hi`): what it subscribes and from where, for a leader that is new to it. */
    private readonly hi: () => ToHub,
  ) {}

  /** Starts leading, or following the tab that leads. */
  start(): void {
    this.#started = true;
    this.#subject = undefined;
    const sharing = this.sharing;
    if (!sharing) {
      this.#lead();
    } else if (sharing.key != null) {
      this.#share(sharing.key); // the application's key: its responsibility that one key means one user
    } else {
      // Share only with the tabs of the same user: key by the token's subject; no subject, no sharing.
      const run = this.#run;
      const go = (sub?: string) => {
        clearTimeout(timer);
        if (run !== this.#run || this.#hub || this.#bus) return;
        this.#subject = sub;
        sub ? this.#share(this.o.url + ' ' + sub) : this.#lead();
      };
      const timer = setTimeout(go, this.o.connectTimeoutMs);
      (async () => subject(await this.o.getToken()))().then(go, () => go());
    }
  }

  /**
   * The link of an `up` is for `user`: true when this tab follows a leader whose connection is
   * another user's, having stopped following and started a connection of its own.
   */
  aloneIfForeign(user?: string): boolean {
    if (!this.#subject || user === this.#subject || this.#hub) return false;
    this.send({ k: 'bye', tab: this.tab });
    this.#abort?.abort();
    this.#bus?.close();
    this.#bus = undefined;
    this.#lead();
    return true;
  }

  /** To the hub: this tab's own one microtask later, else the leader's over the bus. */
  send(m: ToHub): void {
    if (this.#hub) queueMicrotask(() => this.#hub?.receive(m));
    else this.#bus?.postMessage(m);
  }

  /** Stops the hub (another tab takes over when shared) or says goodbye to the leader's; gives up the lock. */
  stop(terminal: boolean): void {
    this.#started = false;
    this.#run++;
    if (this.#hub) this.#hub.stop(terminal);
    else this.#bus?.postMessage({ k: 'bye', tab: this.tab });
    this.#hub = undefined;
    this.#release?.();
    this.#abort?.abort();
    this.#bus?.close();
    this.#bus = undefined;
  }

  #share(key: string): void {
    const name = 'portcullis:' + key;
    const bus = (this.#bus = this.sharing!.channel(name));
    bus.onmessage = ({ data }: { data: ToHub | ToTabs }) => ('tab' in data ? this.#hub?.receive(data) : this.receive(data));
    this.#abort = new AbortController();
    this.sharing!.locks.request(name, { signal: this.#abort.signal }, () => this.#lead()).catch(() => {});
    this.send(this.hi()); // a leader may be there already
  }

  /** Becomes the tab that holds the socket; the returned promise holds the tab lock until close. */
  #lead(): Promise<void> {
    if (!this.#started || this.#hub) return Promise.resolve(); // (a lock granted after this tab went its own way)
    const bus = this.#bus;
    const o = this.o;
    const run = this.#run;
    this.#hub = new Hub(
      { ...o, backoff: new Backoff(o.backoffBaseMs, o.backoffCapMs) },
      (m) => {
        // What a stopped hub still says (its goodbye `reconnecting`) is for the other tabs, not for a run started since.
        queueMicrotask(() => run === this.#run && this.receive(m));
        if (m.to !== this.tab) bus?.postMessage(m);
      },
      this.tab,
    );
    this.#hub.start(bus ? o.handoverMs : 0);
    return new Promise((resolve) => (this.#release = resolve));
  }
}
