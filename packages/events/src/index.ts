export * from "./types";
export { recordEvent, type EventInput } from "./record";
export { listEvents, getEvent, eventsQuerySchema, type EventsQuery, type EventPage } from "./query";
