require "open3"

# db/structure.sql for a database with statusflow.  pg_dump --schema-only
# (what db:schema:dump runs when schema_format is :sql) keeps the enum type,
# the tables, the history table and the triggers, but not the rows of
# statusflow's catalog: the workflows, their transitions and the bindings
# the triggers look up.  Append them (as data, triggers disabled, which the
# loading role must be allowed to do: a superuser), after the schema.
module StatusflowStructure
  module_function

  def append_catalog(db_config, filename)
    cfg = db_config.configuration_hash
    env = { "PGHOST" => cfg[:host], "PGPORT" => cfg[:port]&.to_s,
            "PGUSER" => cfg[:username], "PGPASSWORD" => cfg[:password] }.compact
    sql, errors, status = Open3.capture3(env, "pg_dump", "--data-only", "--disable-triggers",
                                         "--table=statusflow.*",
                                         "--exclude-table-data=statusflow.quota_usage",
                                         cfg[:database])
    raise "pg_dump of statusflow's catalog failed: #{errors}" unless status.success?

    File.open(filename, "a") { |f| f << "\n-- statusflow's catalog\n" << sql }
  end
end
