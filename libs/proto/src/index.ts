export * from './gen/grpc/health/v1/health_pb.js';
export * from './gen/parley/auth/v1/auth_pb.js';
export * from './gen/parley/auth/v1/auth_internal_pb.js';
export * from './gen/parley/events/v1/envelope_pb.js';
export * from './gen/parley/events/v1/user_registered_pb.js';
