export { PortcullisClient } from './client.js';
export type { ClientEvents, ClientOptions, HistoryPage, PresenceEvent, PresenceList, PublicationEvent, PublishResult } from './client.js';
export type { ConnectionState, DisconnectedEvent, RefusedEvent, WebSocketConstructor } from './connection.js';
export type { Listener } from './emitter.js';
export { PortcullisError } from './errors.js';
export type { Member, Position } from './protocol.js';
export { Subscription } from './subscription.js';
export type { MessageCallback, PublicationMeta, Subscribed, SubscriptionEvents } from './subscription.js';
export type { TabBus, TabLock, TabSharing } from './tabs.js';
