#!/usr/bin/perl
# Check META.json against the PGXN Meta Spec 1.0 (https://pgxn.org/meta/spec.txt)
# and against the project: its version is the control file's default_version,
# the files it names exist.  Written from the spec; core Perl only.
#
#   perl test/meta/validate.pl [META.json]
#
# Prints each problem as "# ..." and ends with "ok - ..." or "not ok - ...".
# Before the file itself, it checks that a few broken variants of it are
# refused, so that a checker that accepts anything fails too.
use strict;
use warnings;
use JSON::PP;
use File::Basename qw(dirname);

my $path = shift // 'META.json';
my $root = dirname($path);

# The spec's building blocks.
my $SEMVER = qr/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)
	(?:-(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?
	(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/x;
my %LICENSES = map { $_ => 1 } qw(agpl_3 apache_1_1 apache_2_0 artistic_1 artistic_2
	bsd freebsd gfdl_1_2 gfdl_1_3 gpl_1 gpl_2 gpl_3 lgpl_2_1 lgpl_3_0 mit mozilla_1_0
	mozilla_1_1 openssl perl_5 postgresql qpl_1_0 ssleay sun zlib open_source restricted
	unrestricted unknown);
my %TOP = map { $_ => 1 } qw(name version abstract maintainer license provides meta-spec
	description generated_by tags no_index prereqs release_status resources);
my @REQUIRED = qw(name version abstract maintainer license provides meta-spec);
my %PHASES = map { $_ => 1 } qw(configure build test runtime develop);
my %RELATIONS = map { $_ => 1 } qw(requires recommends suggests conflicts);

my @problems;
sub problem { push @problems, join('', @_) }

sub is_custom { $_[0] =~ /^[xX]_./ }
sub is_string { defined $_[0] && !ref $_[0] && length $_[0] > 0 }
sub is_object { ref $_[0] eq 'HASH' }

sub check_term {
	my ($what, $v) = @_;
	problem("$what must be a term (2 or more characters, no slash, backslash, space or control)")
		unless is_string($v) && $v =~ /^[^\/\\\s[:cntrl:]]{2,}$/;
}

sub check_version {
	my ($what, $v) = @_;
	problem("$what must be a semantic version (X.Y.Z), not ", $v // 'null')
		unless is_string($v) && $v =~ $SEMVER;
}

sub check_text {
	my ($what, $v) = @_;
	problem("$what must be a non-empty string") unless is_string($v);
}

sub check_uri {
	my ($what, $v) = @_;
	problem("$what must be a URI") unless is_string($v) && $v =~ /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/;
}

sub check_path {
	my ($what, $v) = @_;
	if (!is_string($v) || $v =~ m{^/|\\|(^|/)\.\.(/|$)}) {
		problem("$what must be a relative path with forward slashes");
	} elsif (!-f "$root/$v") {
		problem("$what names $v, which does not exist");
	}
}

# Keys of an object: the known ones and custom x_ keys only.
sub check_keys {
	my ($what, $obj, $known) = @_;
	for my $k (sort keys %$obj) {
		problem("$what has an unknown key \"$k\"") unless $known->{$k} || is_custom($k);
	}
}

sub check_object {
	my ($what, $v) = @_;
	return 1 if is_object($v) && %$v;
	problem("$what must be a non-empty object");
	return 0;
}

sub check_maintainer {
	my $v = shift;
	if (ref $v eq 'ARRAY') {
		problem("maintainer must not be an empty list") unless @$v;
		check_text('each maintainer', $_) for @$v;
	} else {
		check_text('maintainer', $v);
	}
}

sub check_license {
	my $v = shift;
	if (ref $v eq 'ARRAY') {
		problem('license must not be an empty list') unless @$v;
		for (@$v) { problem("license \"$_\" is not one the spec names") unless $LICENSES{$_ // ''} }
	} elsif (is_object($v)) {
		problem('license must not be an empty object') unless %$v;
		check_uri("license \"$_\"", $v->{$_}) for sort keys %$v;
	} elsif (!defined $v || ref $v || !$LICENSES{$v}) {
		problem('license must be one the spec names, a list of them, or names mapped to URIs');
	}
}

sub check_provides {
	my $v = shift;
	return unless check_object('provides', $v);
	my %known = map { $_ => 1 } qw(file version abstract docfile docpath);
	for my $ext (sort keys %$v) {
		my $e = $v->{$ext};
		check_term("provides key \"$ext\"", $ext);
		next unless check_object("provides.$ext", $e);
		check_keys("provides.$ext", $e, \%known);
		check_path("provides.$ext.file", $e->{file});
		check_version("provides.$ext.version", $e->{version});
		check_text("provides.$ext.abstract", $e->{abstract}) if exists $e->{abstract};
		check_path("provides.$ext.docfile", $e->{docfile}) if exists $e->{docfile};
	}
}

sub check_meta_spec {
	my $v = shift;
	return unless check_object('meta-spec', $v);
	check_keys('meta-spec', $v, { version => 1, url => 1 });
	problem('meta-spec.version must be 1.0.x')
		unless is_string($v->{version}) && $v->{version} =~ /^1\.0\.\d+$/;
	problem('meta-spec.url must be the spec\'s URL')
		if exists $v->{url} && ($v->{url} // '') !~ m{^https?://pgxn\.org/meta/spec\.txt$};
}

sub check_range {
	my ($what, $v) = @_;
	return if defined $v && !ref $v && $v eq '0';
	my @parts = split /,\s*/, (defined $v && !ref $v) ? $v : '', -1;
	return if @parts && !grep { !/^(?:(?:[=!]=|[<>]=?)\s*)?(.*)$/ || $1 !~ $SEMVER } @parts;
	problem("$what must be 0 or a version range, not ", $v // 'null');
}

sub check_prereqs {
	my $v = shift;
	return unless check_object('prereqs', $v);
	check_keys('prereqs', $v, \%PHASES);
	for my $phase (grep { $PHASES{$_} } sort keys %$v) {
		next unless check_object("prereqs.$phase", $v->{$phase});
		check_keys("prereqs.$phase", $v->{$phase}, \%RELATIONS);
		for my $rel (grep { $RELATIONS{$_} } sort keys %{ $v->{$phase} }) {
			my $set = $v->{$phase}{$rel};
			next unless check_object("prereqs.$phase.$rel", $set);
			for my $dep (sort keys %$set) {
				check_term("prereqs.$phase.$rel key \"$dep\"", $dep);
				check_range("prereqs.$phase.$rel.$dep", $set->{$dep});
			}
		}
	}
}

sub check_tags {
	my $v = shift;
	if (ref $v ne 'ARRAY' || !@$v) {
		problem('tags must be a non-empty list');
		return;
	}
	for (@$v) {
		problem('each tag must be 2 to 255 characters, no slash, backslash or control')
			unless is_string($_) && length($_) <= 255 && /^[^\/\\[:cntrl:]]{2,}$/;
	}
}

sub check_no_index {
	my $v = shift;
	return unless check_object('no_index', $v);
	check_keys('no_index', $v, { file => 1, directory => 1 });
	for my $k (grep { $_ eq 'file' || $_ eq 'directory' } keys %$v) {
		my @items = ref $v->{$k} eq 'ARRAY' ? @{ $v->{$k} } : ($v->{$k});
		problem("no_index.$k must be a path or a non-empty list of paths")
			unless @items && !grep { !is_string($_) } @items;
	}
}

sub check_resources {
	my $v = shift;
	return unless check_object('resources', $v);
	check_keys('resources', $v, { homepage => 1, bugtracker => 1, repository => 1 });
	check_uri('resources.homepage', $v->{homepage}) if exists $v->{homepage};
	if (exists $v->{bugtracker} && check_object('resources.bugtracker', $v->{bugtracker})) {
		my $b = $v->{bugtracker};
		check_keys('resources.bugtracker', $b, { web => 1, mailto => 1 });
		check_uri('resources.bugtracker.web', $b->{web}) if exists $b->{web};
		problem('resources.bugtracker.mailto must be an e-mail address')
			if exists $b->{mailto} && ($b->{mailto} // '') !~ /^[^@\s]+@[^@\s]+$/;
	}
	if (exists $v->{repository} && check_object('resources.repository', $v->{repository})) {
		my $r = $v->{repository};
		check_keys('resources.repository', $r, { url => 1, web => 1, type => 1 });
		check_uri("resources.repository.$_", $r->{$_}) for grep { exists $r->{$_} } qw(url web);
		problem('resources.repository.type must be a lower-case word')
			if exists $r->{type} && ($r->{type} // '') !~ /^[a-z]+$/;
	}
}

# The spec's rules for a whole document.
sub check_document {
	my $m = shift;
	unless (is_object($m)) {
		problem('the document must be a JSON object');
		return;
	}
	check_keys('the document', $m, \%TOP);
	for (@REQUIRED) { problem("required key \"$_\" is missing") unless exists $m->{$_} }
	check_term('name', $m->{name}) if exists $m->{name};
	check_version('version', $m->{version}) if exists $m->{version};
	check_text('abstract', $m->{abstract}) if exists $m->{abstract};
	check_text($_, $m->{$_}) for grep { exists $m->{$_} } qw(description generated_by);
	check_maintainer($m->{maintainer}) if exists $m->{maintainer};
	check_license($m->{license}) if exists $m->{license};
	check_provides($m->{provides}) if exists $m->{provides};
	check_meta_spec($m->{'meta-spec'}) if exists $m->{'meta-spec'};
	check_prereqs($m->{prereqs}) if exists $m->{prereqs};
	check_tags($m->{tags}) if exists $m->{tags};
	check_no_index($m->{no_index}) if exists $m->{no_index};
	check_resources($m->{resources}) if exists $m->{resources};
	problem('release_status must be stable, testing or unstable')
		if exists $m->{release_status} && ($m->{release_status} // '') !~ /^(stable|testing|unstable)$/;
}

# The project's own rules: the version is the extension's, and released.
sub check_project {
	my $m = shift;
	open my $fh, '<', "$root/statusflow.control" or return problem('statusflow.control is missing');
	my ($default) = map { /^default_version\s*=\s*'([^']+)'/ ? $1 : () } <$fh>;
	close $fh;
	my $want = ($default // '') =~ /^\d+\.\d+$/ ? "$default.0" : ($default // '');
	problem("version $m->{version} is not the control file's default_version $want")
		unless ($m->{version} // '') eq $want;
	problem("provides.statusflow.version is not $want")
		unless (($m->{provides}{statusflow} // {})->{version} // '') eq $want;
	problem('LICENSE is missing') unless -f "$root/LICENSE";
	my $log;
	problem("CHANGELOG.md has no section for $default")
		unless open($log, '<', "$root/CHANGELOG.md") && grep { /^## \Q$default\E\b/ } <$log>;
}

sub problems_of {
	my $m = shift;
	@problems = ();
	check_document($m);
	return @problems;
}

open my $in, '<', $path or do { print "not ok - $path cannot be read\n"; exit 1 };
my $meta = eval { JSON::PP->new->decode(do { local $/; <$in> }) };
if (!defined $meta) {
	print "# $@";
	print "not ok - $path is not valid JSON\n";
	exit 1;
}

# broken variants must be refused
my %broken = (
	'no license'          => sub { delete $_[0]{license} },
	'a two-part version'  => sub { $_[0]{version} = '1.1' },
	'an unknown license'  => sub { $_[0]{license} = 'postgres' },
	'an unknown key'      => sub { $_[0]{homepage} = 'https://example.org' },
	'a bad version range' => sub { $_[0]{prereqs} = { runtime => { requires => { PostgreSQL => '>= 15' } } } },
	'an absolute path'    => sub { $_[0]{provides}{statusflow}{file} = '/etc/passwd' },
	'a spec of version 2' => sub { $_[0]{'meta-spec'}{version} = '2.0.0' },
);
my $json = JSON::PP->new->canonical;
my $accepted = 0;
for my $name (sort keys %broken) {
	my $copy = $json->decode($json->encode($meta));
	$broken{$name}->($copy);
	next if problems_of($copy);
	print "# the checker accepts a document with $name\n";
	$accepted++;
}

my @found = problems_of($meta);
check_project($meta);
@found = @problems;
print "# $_\n" for @found;
if (@found || $accepted) {
	print "not ok - $path does not follow the PGXN Meta Spec 1.0\n";
	exit 1;
}
print "ok - $path follows the PGXN Meta Spec 1.0 (", scalar(keys %broken),
	" broken variants refused)\n";
