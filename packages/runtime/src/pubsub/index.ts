export { PubSub } from './pubsub.js'
export type { PubSubOptions, PubSubStats } from './pubsub.js'
export type { Published, SubscriberProtocol } from './topic.js'
export { MAX_TOPIC_LENGTH } from './topic.js'
