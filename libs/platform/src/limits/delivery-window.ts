/**
 * The most deliveries one device's stream holds unacked: the edge's window, and the cap on
 * FetchDeliveries' limit and in_flight_ids in messaging.
 */
export const MAX_DELIVERIES_IN_FLIGHT = 256;
