# statusflow from ActiveRecord: SQL with bind parameters on the model's
# connection, so errors come back as ActiveRecord's exceptions.
module Statusflow
  # A refusal of the workflow (SQLSTATE 23514), as the server explained it.
  Refusal = Struct.new(:message, :detail, :hint, :constraint, keyword_init: true)

  module_function

  # Run sql with $1, $2... bound to values; an ActiveRecord::Result.
  def query(connection, sql, *values)
    binds = values.map do |value|
      ActiveRecord::Relation::QueryAttribute.new("", value, ActiveRecord::Type::Value.new)
    end
    connection.exec_query(sql, "statusflow", binds)
  end

  # One unit of work (a request, a job) done as actor: a transaction whose
  # statusflow.actor is set with is_local = true, so it ends with the
  # transaction and never reaches the next user of the pooled connection.
  def as_actor(actor, model = ActiveRecord::Base)
    model.transaction do
      query(model.connection, "SELECT set_config('statusflow.actor', $1, true)", actor)
      yield
    end
  end

  # The refusal behind an ActiveRecord::StatementInvalid, or nil for any
  # other error.  ActiveRecord 6.1 has no subclass for check_violation: the
  # PG::CheckViolation is the exception's cause.
  def refusal(error)
    pg = error.cause
    return nil unless pg.is_a?(PG::CheckViolation) && pg.result

    result = pg.result
    Refusal.new(message: result.error_field(PG::PG_DIAG_MESSAGE_PRIMARY),
                detail: result.error_field(PG::PG_DIAG_MESSAGE_DETAIL),
                hint: result.error_field(PG::PG_DIAG_MESSAGE_HINT),
                constraint: result.error_field(PG::PG_DIAG_CONSTRAINT_NAME))
  end
end
