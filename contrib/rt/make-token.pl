#!/usr/bin/perl
# Prints a new REST2 auth token for the RT user named in ARGV[0] (RT::Authen::Token,
# built into RT 5). Reads the site configuration named by RT_SITE_CONFIG.
use strict;
use warnings;
use RT;
RT::LoadConfig();
RT::Init();
my $user = RT::User->new(RT->SystemUser);
$user->Load($ARGV[0]) or die "no RT user $ARGV[0]\n";
my $token = RT::AuthToken->new(RT->SystemUser);
my ($ok, $msg, $auth) = $token->Create(Owner => $user->Id, Description => 'sereno tests');
die "token for $ARGV[0]: $msg\n" unless $ok;
print "$auth\n";
