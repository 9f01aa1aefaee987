# A row of invitations_status_history.  Its key column is named id like the
# invitation's; history_id orders the rows.
class InvitationStatusChange < ApplicationRecord
  self.table_name = "invitations_status_history"
  self.primary_key = "history_id"

  def readonly?
    true
  end
end
