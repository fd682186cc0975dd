# What setup-test-rt.sh adds to a fresh RT 5 for Sereno's tests: two more queues, the
# custom field that names the incident, the API user "sereno" and an agent "agent1", and
# the rights both need. A production RT needs the same custom field, applied to the queues
# Sereno writes to, and a user with these rights on them.
@Queues = (
    { Name => 'Network',   Description => 'Network support group' },
    { Name => 'Databases', Description => 'Database support group' },
);

@Users = (
    { Name => 'sereno', RealName => 'Sereno', EmailAddress => 'sereno@sereno.test',
      Privileged => 1 },
    { Name => 'agent1', RealName => 'Agent One', EmailAddress => 'agent1@sereno.test',
      Privileged => 1 },
);

@CustomFields = (
    { Name => 'Sereno incident', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
      Description => 'The Sereno incident this ticket follows', Queue => 0 },
);

@ACL = (
    map({ { GroupDomain => 'SystemInternal', GroupType => 'Privileged', Right => $_ } }
        qw(SeeQueue CreateTicket ShowTicket ModifyTicket CommentOnTicket ReplyToTicket
           ShowTicketComments OwnTicket TakeTicket StealTicket SeeCustomField
           ModifyCustomField SeeGroup ShowOutgoingEmail)),
    { UserId => 'sereno', Right => 'ManageAuthTokens' },
    { UserId => 'agent1', Right => 'ManageAuthTokens' },
);
