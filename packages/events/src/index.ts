export * from "./types";
export { recordEvent, eventInsert, inTransaction, type EventInput } from "./record";
export { listEvents, getEvent, eventsQuerySchema, type EventsQuery, type EventPage } from "./query";
