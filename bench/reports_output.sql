-- What the scripts of bench/reports.sh print: unaligned lines, fields
-- separated by |, nothing else; they stop at the first error.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
\pset footer off
\pset format unaligned
\pset fieldsep '|'
\pset tuples_only on
