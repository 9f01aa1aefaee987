require "json"

# Sends the invitation e-mail for each change to "sent", read from the
# change feed 'mailer'.  Reading and sending are one transaction: its
# commit acknowledges the changes; an exception rolls it back and the same
# changes come again at the next run.
class MailerWorker
  def initialize(smtp)
    @smtp = smtp
  end

  # Returns the number of changes read.
  def perform(max_changes: 100)
    Invitation.transaction do
      changes = Statusflow.query(Invitation.connection,
                                 "SELECT history_id, key, to_status, applied " \
                                 "FROM statusflow.read_feed($1, $2, $3)",
                                 "invitations", "mailer", max_changes)
      ids = changes.select { |c| c["to_status"] == "sent" && c["applied"] }
                   .map { |c| JSON.parse(c["key"])["id"] }
      emails = Invitation.where(id: ids).pluck(:id, :email).to_h
      ids.each { |id| @smtp.deliver(id, emails.fetch(id)) }
      changes.length
    end
  end
end
