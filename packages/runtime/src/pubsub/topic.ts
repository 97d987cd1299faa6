import { TroupeError } from '../errors.js'

/** What a subscriber receives, as `tell('published', { topic, message })`. */
export interface Published<M = unknown> {
  readonly topic: string
  readonly message: M
}

/** The protocol a subscriber must implement. */
export type SubscriberProtocol<M = any> = { published(p: Published<M>): unknown }

export const MAX_TOPIC_LENGTH = 256

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export function isValidTopic(topic: unknown): topic is string {
  return typeof topic === 'string' && topic.length > 0 && topic.length <= MAX_TOPIC_LENGTH && !LONE_SURROGATE.test(topic)
}

export function checkTopic(topic: unknown): string {
  if (isValidTopic(topic)) return topic
  throw new TroupeError('INVALID_ARGUMENT', `invalid topic ${typeof topic === 'string' ? JSON.stringify(topic.slice(0, 40)) : typeof topic}: a well-formed string of 1-${MAX_TOPIC_LENGTH} characters`)
}
