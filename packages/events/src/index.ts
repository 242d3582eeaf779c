export * from "./types";
export { recordEvent, eventInsert, inTransaction, type EventInput } from "./record";
export { eventsOverview, type EventsOverview } from "./overview";
export { listEvents, getEvent, eventsQuerySchema, type EventsQuery, type EventPage } from "./query";
