-- One database per service (compose.yaml). Tables, RLS and the runtime role come from
-- each service's migrations.
CREATE DATABASE catalog;
CREATE DATABASE delivery;
CREATE DATABASE finance;
CREATE DATABASE support;
CREATE DATABASE analytics;
