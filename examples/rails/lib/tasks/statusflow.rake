# db:schema:dump with schema_format :sql writes what pg_dump --schema-only
# gives: statusflow's triggers without the catalog rows they look up.  Add
# those rows, so that db:test:prepare makes a test database that works.
require_relative "../statusflow_structure"

Rake::Task["db:schema:dump"].enhance do
  next unless ActiveRecord::Base.schema_format == :sql

  ActiveRecord::Base.configurations.configs_for(env_name: ActiveRecord::Tasks::DatabaseTasks.env).each do |db_config|
    StatusflowStructure.append_catalog(db_config,
                                       ActiveRecord::Tasks::DatabaseTasks.dump_filename(db_config.name))
  end
end
