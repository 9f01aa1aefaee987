# statusflow with ActiveRecord 6.1 (standalone, Debian 12's packages): the
# checks of examples/rails, printed as TAP lines.  Run by run.sh with
# PGHOST (a socket directory), PGPORT, PGDATABASE, PGUSER=app and
# PGSUPERUSER set; examples/schema.sql is already loaded.
require "active_record"
require "erb"
require "stringio"
require "tempfile"
require "tmpdir"
require "rake"

require_relative "lib/statusflow"
require_relative "lib/statusflow_structure"
require_relative "app/models/application_record"
require_relative "app/models/invitation"
require_relative "app/models/invitation_status_change"
require_relative "app/workers/mailer_worker"

ENV["VERBOSE"] = "false" # ActiveRecord's database tasks: no "Created database" lines

# -- TAP ---------------------------------------------------------------------

$failed = 0
$count = 0

def diag(text)
  text.to_s.each_line { |line| puts "# #{line.chomp}" }
end

# One check: the block returns true when it passes.
def check(what)
  $count += 1
  passed = begin
    yield
  rescue StandardError => e
    diag "#{e.class}: #{e.message}"
    diag e.backtrace.first(4).join("\n")
    false
  end
  puts "#{passed ? 'ok' : 'not ok'} - #{what}"
  $failed += 1 unless passed
  $stdout.flush
end

# The block's exception (or nil), for checks that expect one.
def raised
  yield
  nil
rescue StandardError => e
  e
end

# What the block wrote on file descriptor 2 (warnings, pg_dump's errors).
def capture_stderr
  saved = $stderr.dup
  Tempfile.create("stderr") do |file|
    $stderr.reopen(file)
    begin
      yield
    ensure
      $stderr.reopen(saved)
    end
    file.rewind
    file.read
  end
end

# -- connections -------------------------------------------------------------

def config(env_name, **settings)
  ActiveRecord::DatabaseConfigurations::HashConfig.new(env_name, "primary", {
    adapter: "postgresql", host: ENV.fetch("PGHOST"), port: ENV.fetch("PGPORT"),
    database: ENV.fetch("PGDATABASE"), pool: 1, **settings
  })
end

# the application's role; the owner's, as migrations run (db:migrate,
# db:schema:dump); the test database, made from structure.sql as the owner
APP = config("development", username: ENV.fetch("PGUSER"))
OWNER = config("development", username: ENV.fetch("PGSUPERUSER"))
TEST = config("test", username: ENV.fetch("PGSUPERUSER"),
                      database: "#{ENV.fetch('PGDATABASE')}_test")
ActiveRecord::Base.configurations = ActiveRecord::DatabaseConfigurations.new([APP, TEST])
ActiveRecord::Base.establish_connection(APP)

def connection
  ActiveRecord::Base.connection
end

def history(invitation)
  invitation.status_changes.reload.last
end

# -- 1. the model ------------------------------------------------------------

check "model: the history model loads, ActiveRecord 6.1 warns that xid8 (txid) is read as a String" do
  warnings = capture_stderr { InvitationStatusChange.columns }
  diag warnings
  warnings.include?("failed to recognize type of 'txid'") &&
    InvitationStatusChange.columns_hash["to_status"].type == :enum
end

check "model: Invitation's enum has the values of the type invitation_status, new rows are drafts" do
  in_db = Statusflow.query(connection,
                           "SELECT unnest(enum_range(NULL::invitation_status))::text AS v").rows.flatten
  invitation = Invitation.create!(email: "ada@example.com")
  first = history(invitation)
  Invitation.statuses.values == in_db && invitation.reload.draft? &&
    first.from_status.nil? && first.to_status == "draft"
end

# -- 2. changes through save and through fire() --------------------------------

ada = Invitation.find_by!(email: "ada@example.com")

check "save: draft -> sent through Invitation#save!, recorded in the history with its event" do
  ada.status = "sent"
  ada.save!
  change = history(ada)
  ada.reload.sent? && change.from_status == "draft" && change.event == "send"
end

check "fire(): sent -> opened through statusflow.fire() (Invitation#fire!)" do
  ada.fire!("open")
  ada.opened? && history(ada).event == "open"
end

# -- 3. refusals ---------------------------------------------------------------

check "refusal: save! raises ActiveRecord::StatementInvalid, cause PG::CheckViolation, with detail and hint" do
  ada.status = "draft"
  error = raised { ada.save! }
  refusal = Statusflow.refusal(error)
  diag "#{error.class} (cause #{error.cause.class})"
  diag "constraint: #{refusal.constraint}"
  diag "detail: #{refusal.detail}"
  diag "hint: #{refusal.hint}"
  error.instance_of?(ActiveRecord::StatementInvalid) && error.cause.is_a?(PG::CheckViolation) &&
    refusal.constraint == "invitations_status_workflow" &&
    refusal.detail.include?('no transition from "opened" to "draft"') &&
    refusal.hint.include?('"accepted", "declined"')
end

check "refusal: the model keeps the refused value (status 'draft', 'opened' in the database) until restore_attributes" do
  kept = ada.status == "draft" && ada.status_in_database == "opened"
  ada.restore_attributes
  kept && ada.opened? && Invitation.find(ada.id).opened?
end

check "refusal: update_all and update_column skip callbacks and validations, not the workflow" do
  bulk = raised { Invitation.where(id: ada.id).update_all(status: "draft") }
  column = raised { ada.update_column(:status, "sent") }
  ada.reload
  Statusflow.refusal(bulk)&.constraint == "invitations_status_workflow" &&
    Statusflow.refusal(column)&.constraint == "invitations_status_workflow" && ada.opened?
end

check "refusal: decline needs a reason, refused through save without one, taken by fire!(reason:)" do
  ada.status = "declined"
  refusal = Statusflow.refusal(raised { ada.save! })
  diag "detail: #{refusal.detail}"
  ada.restore_attributes
  ada.fire!("decline", reason: "moved abroad")
  ada.declined? && history(ada).reason == "moved abroad"
end

# -- 4. the actor, per unit of work ----------------------------------------------

bob = Invitation.create!(email: "bob@example.com")

check "actor: set per unit of work (transaction + set_config(..., true)), in the history of save and fire()" do
  Statusflow.as_actor("alice@staff") do
    bob.update!(status: "sent")
    bob.fire!("bounce")
  end
  changes = bob.status_changes.reload.last(2)
  changes.map { |c| [c.event, c.actor] } == [%w[send alice@staff], %w[bounce alice@staff]]
end

check "actor: gone after the unit of work, on the same pooled connection" do
  setting = Statusflow.query(connection, "SELECT current_setting('statusflow.actor', true) AS a").rows[0][0]
  carol = Invitation.create!(email: "carol@example.com")
  carol.fire!("send")
  setting.to_s.empty? && history(carol).actor.nil?
end

check "trap: a refusal inside a unit of work aborts its transaction (the next statement fails, 25P02)" do
  carol = Invitation.find_by!(email: "carol@example.com")
  error = raised do
    Statusflow.as_actor("alice@staff") do
      raised { carol.update!(status: "draft") }
      carol.restore_attributes
      carol.fire!("open")
    end
  end
  diag "#{error.class}: #{error.message.lines.first}"
  error.is_a?(ActiveRecord::StatementInvalid) && error.cause.is_a?(PG::InFailedSqlTransaction) &&
    carol.reload.sent?
end

check "fix: save_with_workflow (a savepoint) reports the refusal in errors and the unit of work goes on" do
  carol = Invitation.find_by!(email: "carol@example.com")
  saved = nil
  Statusflow.as_actor("alice@staff") do
    carol.status = "draft"
    saved = carol.save_with_workflow
    diag "errors[:status]: #{carol.errors[:status].first}"
    carol.restore_attributes
    carol.fire!("open")
  end
  saved == false && carol.errors[:status].first.include?('no transition from "sent" to "draft"') &&
    carol.reload.opened? && history(carol).actor == "alice@staff"
end

check "expect: fire!(expect: the status the user saw) on a row changed meanwhile raises ActiveRecord::SerializationFailure (40001)" do
  dave = Invitation.create!(email: "dave@example.com")
  dave.fire!("send")
  seen = dave.status # the form shows "sent"
  Invitation.find(dave.id).fire!("open") # meanwhile, another request
  error = raised { dave.fire!("accept", expect: seen) }
  diag "#{error.class}: #{error.message.lines.first}"
  error.is_a?(ActiveRecord::SerializationFailure) && error.cause.is_a?(PG::TRSerializationFailure) &&
    dave.reload.opened?
end

# -- 5. the dropdown of next transitions ---------------------------------------

STATUS_SELECT = ERB.new(File.read(File.join(__dir__, "app/views/invitations/_status_select.html.erb")),
                        trim_mode: "-")

# The partial, with ERB::Util's h in scope (a Rails view has it already).
class SelectView
  include ERB::Util

  attr_reader :options # the partial's local

  def initialize(options)
    @options = options
  end

  def render(template)
    template.result(binding)
  end
end

check "dropdown: next_transitions of a bounced invitation, resend disabled with its refusal" do
  options = bob.status_options
  html = SelectView.new(options).render(STATUS_SELECT)
  diag html
  resend = options.find { |o| o["event"] == "resend" }
  options.map { |o| o["event"] } == ["resend"] && resend["allowed"] == false &&
    !resend["refusal"].to_s.empty? && html.include?('<option value="resend" disabled title=')
end

check "dropdown: a sent invitation offers open, bounce, accept, decline (reason required)" do
  erin = Invitation.create!(email: "erin@example.com")
  erin.fire!("send")
  options = erin.status_options
  diag SelectView.new(options).render(STATUS_SELECT)
  options.map { |o| [o["event"], o["allowed"], o["requires_reason"]] }.sort ==
    [["accept", true, false], ["bounce", true, false], ["decline", true, true], ["open", true, false]]
end

check "resend: refused while the e-mail is the same, taken with the new address in the same save" do
  bob.status = "sent"
  refusal = Statusflow.refusal(raised { bob.save! })
  diag "detail: #{refusal.detail}"
  bob.email = "bob@example.org"
  bob.save!
  bob.reload.sent? && history(bob).event == "resend"
end

# -- 6. the change feed, consumed by a worker ----------------------------------

# A stand-in for the mail server: records what it sent, or is down.
class FakeSmtp
  attr_reader :sent

  def initialize(down: false)
    @down = down
    @sent = []
  end

  def deliver(id, email)
    raise IOError, "SMTP server unavailable" if @down

    @sent << [id, email]
  end
end

# every change to "sent", in order, with the address on file
expected_mails = InvitationStatusChange.where(to_status: "sent").order(:history_id).pluck(:id)
                                       .map { |id| [id, Invitation.find(id).email] }

check "feed: a worker run that fails (mail server down) acknowledges nothing" do
  down = FakeSmtp.new(down: true)
  error = raised { MailerWorker.new(down).perform }
  error.is_a?(IOError) && down.sent.empty?
end

check "feed: the next run mails each invitation that was sent, once per change to sent" do
  smtp = FakeSmtp.new
  read = MailerWorker.new(smtp).perform
  diag "#{read} changes read; mailed #{smtp.sent.map(&:last).join(', ')}"
  smtp.sent == expected_mails && expected_mails.length == 6
end

check "feed: a third run has nothing left" do
  smtp = FakeSmtp.new
  MailerWorker.new(smtp).perform.zero? && smtp.sent.empty?
end

# -- 7. the schema dump: schema.rb, then structure.sql ---------------------------

check "trap: schema.rb (SchemaDumper) cannot dump the enum column: no create_table for invitations" do
  io = StringIO.new
  capture_stderr { ActiveRecord::SchemaDumper.dump(connection, io) }
  dump = io.string
  diag dump.lines.grep(/enable_extension|Could not dump|Unknown type/).join
  dump.include?(%(# Could not dump table "invitations" because of following StandardError)) &&
    dump.include?("Unknown type 'invitation_status' for column 'status'") &&
    !dump.include?(%(create_table "invitations"))
end

# The database tasks of a Rails app (bin/rails db:...), run without Rails:
# ActiveRecord's own databases.rake, on the configurations above.
ActiveRecord::Base.schema_format = :sql # config.active_record.schema_format = :sql
ActiveRecord::Tasks::DatabaseTasks.env = "development"
ActiveRecord::Tasks::DatabaseTasks.db_dir = Dir.mktmpdir("db")
at_exit { FileUtils.rm_rf(ActiveRecord::Tasks::DatabaseTasks.db_dir) }
ActiveRecord::Tasks::DatabaseTasks.migrations_paths = []
# psql prints the results of the dump's SELECTs (set_config, setval): not here
ActiveRecord::Tasks::DatabaseTasks.structure_load_flags = ["--output=/dev/null"]
Rake::Task.define_task(:environment)
load "active_record/railties/databases.rake"
STRUCTURE = ActiveRecord::Tasks::DatabaseTasks.dump_filename("primary")

def rails_db(*tasks)
  Rake::Task.tasks.each(&:reenable)
  tasks.each { |task| Rake::Task[task].invoke }
end

# A refusal in the test database: what Invitation.create! raised, or nil.
def create_in_test_database
  ActiveRecord::Base.establish_connection(TEST)
  Invitation.reset_column_information
  invitation = Invitation.create!(email: "test@example.com")
  yield invitation if block_given?
  nil
rescue ActiveRecord::StatementInvalid => e
  e
ensure
  ActiveRecord::Base.establish_connection(OWNER) # off the test database
end

check "db:schema:dump runs with the application's role too (it may read statusflow's sequences)" do
  error = nil
  errors = capture_stderr { error = raised { rails_db("db:schema:dump") } }
  diag errors unless errors.empty?
  error.nil? && File.read(STRUCTURE).include?("CREATE TABLE public.invitations ")
end

# database.yml with the role migrations run as, the tables' owner
ActiveRecord::Base.configurations = ActiveRecord::DatabaseConfigurations.new([OWNER, TEST])

check "trap: db:schema:dump (pg_dump --schema-only) has the type, tables and triggers, not the workflow" do
  rails_db("db:schema:dump")
  sql = File.read(STRUCTURE)
  diag sql.lines.grep(/^CREATE (EXTENSION|TYPE|TABLE|TRIGGER)/).join
  sql.include?("CREATE EXTENSION IF NOT EXISTS statusflow") &&
    sql.include?("CREATE TYPE public.invitation_status AS ENUM") &&
    sql.include?("CREATE TABLE public.invitations_status_history") &&
    sql.include?("CREATE TRIGGER statusflow_1_update") && !sql.include?("COPY statusflow.transition")
end

check "trap: db:test:prepare loads it into a test database that refuses every insert (42704)" do
  rails_db("db:test:prepare")
  error = create_in_test_database
  diag "#{error.class}: #{error.message.lines.first}"
  error.cause.is_a?(PG::UndefinedObject) && error.message.include?("statusflow binding 1")
end

check "fix: lib/tasks/statusflow.rake appends statusflow's catalog; db:test:prepare then enforces the workflow" do
  load File.join(__dir__, "lib/tasks/statusflow.rake")
  rails_db("db:schema:dump", "db:test:prepare")
  refusal = status = nil
  error = create_in_test_database do |invitation|
    refusal = Statusflow.refusal(raised { invitation.update!(status: "accepted") })
    diag "detail: #{refusal.detail}"
    invitation.restore_attributes
    status = invitation.fire!("send").status
  end
  File.read(STRUCTURE).include?("COPY statusflow.transition") && error.nil? &&
    refusal.constraint == "invitations_status_workflow" && status == "sent"
ensure
  ActiveRecord::Tasks::DatabaseTasks.drop(TEST)
end

puts "1..#{$count}"
exit($failed.zero? ? 0 : 1)
