# The existing table invitations; statusflow's triggers check every change
# of status, whichever way ActiveRecord writes it.
class Invitation < ApplicationRecord
  # The values of the enum type invitation_status, each mapped to itself:
  # ActiveRecord sends the string and statusflow checks it (the enum gives
  # scopes and predicates, Invitation.sent, invitation.sent?).
  enum status: %w[draft sent opened bounced accepted declined].index_with(&:itself)

  # The history statusflow writes (append-only), oldest first.
  has_many :status_changes, -> { order(:history_id) },
           class_name: "InvitationStatusChange", foreign_key: :id, inverse_of: false

  # Apply an event with statusflow.fire().  expect: the status the user saw
  # (ActiveRecord::SerializationFailure if the row has moved on since).
  def fire!(event, reason: nil, expect: nil)
    Statusflow.query(self.class.connection,
                     "SELECT statusflow.fire($1, $2, $3, reason => $4, expect => $5)",
                     self.class.table_name, id, event, reason, expect)
    reload
  end

  # save, with a refusal of the workflow added to errors[:status] instead of
  # raised, as a form wants it.  In a savepoint (requires_new), so that a
  # refusal leaves an enclosing transaction usable.
  def save_with_workflow
    self.class.transaction(requires_new: true) { save! }
  rescue ActiveRecord::StatementInvalid => e
    refusal = Statusflow.refusal(e)
    raise unless refusal&.constraint == "#{self.class.table_name}_status_workflow"

    errors.add(:status, "#{refusal.detail} #{refusal.hint}")
    false
  end

  # The options of the status dropdown: every transition from the row's
  # status, allowed or not for the current role on this row, and why not.
  def status_options
    Statusflow.query(self.class.connection,
                     "SELECT event, to_status, allowed, requires_reason, refusal " \
                     "FROM statusflow.next_transitions($1, $2)",
                     self.class.table_name, id).to_a
  end
end
