package graph

import (
	"net/http"
	"strings"
)

func (s *Server) me(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	p := mb.Owner
	nullable := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	phones := []string{}
	if p.Phone != "" {
		phones = append(phones, p.Phone)
	}
	writeJSON(w, http.StatusOK, project(map[string]any{
		"@odata.context":    baseURL(r) + "/v1.0/$metadata#users/$entity",
		"businessPhones":    phones,
		"displayName":       p.DisplayName,
		"givenName":         nullable(p.GivenName),
		"jobTitle":          nullable(p.JobTitle),
		"mail":              p.UPN,
		"mobilePhone":       nil,
		"officeLocation":    nullable(p.Office),
		"preferredLanguage": "en-US",
		"surname":           nullable(p.Surname),
		"userPrincipalName": p.UPN,
		"id":                p.ObjectID,
	}, selectParam(r)))
}

func (s *Server) mailboxSettings(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.RLock()
	tz := mb.TimeZone
	mb.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context":                        baseURL(r) + "/v1.0/$metadata#users('" + mb.Owner.ObjectID + "')/mailboxSettings",
		"archiveFolder":                         mb.Folder("archive").ID,
		"timeZone":                              tz,
		"delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
		"dateFormat":                            "yyyy-MM-dd",
		"timeFormat":                            "HH:mm",
		"userPurpose":                           "user",
		"automaticRepliesSetting":               map[string]any{"status": "disabled", "externalAudience": "none"},
		"language":                              map[string]string{"locale": "en-US", "displayName": "English (United States)"},
		"workingHours": map[string]any{
			"daysOfWeek": []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
			"startTime":  "08:00:00.0000000", "endTime": "17:00:00.0000000",
			"timeZone": map[string]string{"name": tz},
		},
	})
}

func (s *Server) mailboxTimeZone(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.RLock()
	tz := mb.TimeZone
	mb.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": baseURL(r) + "/v1.0/$metadata#users('" + mb.Owner.ObjectID + "')/mailboxSettings/timeZone",
		"value":          tz,
	})
}

// routes maps Graph v1.0 paths to handlers, each with the permissions that
// let a delegated token call it.
func (s *Server) routes() {
	m := s.mux
	const mailDenied, driveDenied, userDenied = "ErrorAccessDenied", "accessDenied", "Authorization_RequestDenied"
	handle := func(pattern string, scopes []string, denied string, h handlerFunc) {
		m.HandleFunc(pattern, s.authed(scopes, denied, h))
	}
	// Another mailbox or calendar the person may open: the same routes
	// under /users/{user}, with the .Shared scopes.
	mailSendShared := []string{"Mail.Send.Shared"}
	mailRWShared := []string{"Mail.ReadWrite.Shared"}
	for _, route := range []struct {
		pattern        string
		scopes, shared []string
		h              handlerFunc
	}{
		{"GET mailFolders", scopesMailRead, scopesMailShared, s.listFolders},
		{"GET mailFolders/{folder}/messages", scopesMailRead, scopesMailShared, s.listMessages},
		{"GET mailFolders/{folder}/messages/delta", scopesMailRead, scopesMailShared, s.messagesDelta},
		{"GET messages", scopesMailRead, scopesMailShared, s.listMessages},
		{"GET messages/{id}", scopesMailRead, scopesMailShared, s.getMessage},
		{"GET messages/{id}/attachments", scopesMailRead, scopesMailShared, s.listAttachments},
		{"GET messages/{id}/attachments/{att}", scopesMailRead, scopesMailShared, s.getAttachment},
		{"GET messages/{id}/attachments/{att}/$value", scopesMailRead, scopesMailShared, s.attachmentValue},
		{"POST messages", scopesMailRW, mailRWShared, s.createMessage},
		{"PATCH messages/{id}", scopesMailRW, mailRWShared, s.updateMessage},
		{"DELETE messages/{id}", scopesMailRW, mailRWShared, s.deleteMessage},
		{"POST messages/{id}/{action}", scopesMailRW, mailRWShared, s.messageAction},
		{"POST messages/{id}/attachments/createUploadSession", scopesMailRW, mailRWShared, s.createAttachmentUploadSession},
		{"POST messages/{id}/send", scopesMailSend, mailSendShared, s.withAction("send")},
		{"POST messages/{id}/reply", scopesMailSend, mailSendShared, s.withAction("reply")},
		{"POST messages/{id}/replyAll", scopesMailSend, mailSendShared, s.withAction("replyAll")},
		{"POST messages/{id}/forward", scopesMailSend, mailSendShared, s.withAction("forward")},
		{"GET events/{id}", scopesCalRead, scopesCalShared, s.getEvent},
		{"GET calendarView", scopesCalRead, scopesCalShared, s.calendarView},
		{"GET calendar/calendarView", scopesCalRead, scopesCalShared, s.calendarView},
	} {
		method, path, _ := strings.Cut(route.pattern, " ")
		m.HandleFunc(method+" /v1.0/users/{user}/"+path, s.authedFor(route.scopes, route.shared, mailDenied, route.h))
	}
	handle("GET /v1.0/me", scopesUser, userDenied, s.me)
	handle("GET /v1.0/me/todo/lists", scopesTaskRead, mailDenied, s.listTaskLists)
	handle("GET /v1.0/me/todo/lists/{list}/tasks", scopesTaskRead, mailDenied, s.listTasks)
	handle("POST /v1.0/me/todo/lists/{list}/tasks", scopesTaskRW, mailDenied, s.createTask)
	handle("GET /v1.0/me/todo/lists/{list}/tasks/{task}", scopesTaskRead, mailDenied, s.getTask)
	handle("PATCH /v1.0/me/todo/lists/{list}/tasks/{task}", scopesTaskRW, mailDenied, s.updateTask)
	handle("GET /v1.0/me/mailboxSettings", scopesSettings, mailDenied, s.mailboxSettings)
	handle("GET /v1.0/me/people", scopesPeople, mailDenied, s.people)
	handle("POST /v1.0/search/query", append(append(append([]string{}, scopesMailRead...), scopesCalRead...), scopesFileRead...), "Forbidden", s.searchQuery)
	handle("GET /v1.0/users", scopesUsers, userDenied, s.users)
	handle("GET /v1.0/me/mailboxSettings/timeZone", scopesSettings, mailDenied, s.mailboxTimeZone)

	handle("GET /v1.0/me/mailFolders", scopesMailRead, mailDenied, s.listFolders)
	handle("POST /v1.0/me/mailFolders", scopesMailRW, mailDenied, s.createFolder)
	handle("GET /v1.0/me/mailFolders/{folder}", scopesMailRead, mailDenied, s.getFolder)
	handle("GET /v1.0/me/mailFolders/{folder}/childFolders", scopesMailRead, mailDenied, s.listFolders)
	handle("POST /v1.0/me/mailFolders/{folder}/childFolders", scopesMailRW, mailDenied, s.createFolder)
	handle("GET /v1.0/me/mailFolders/{folder}/messages", scopesMailRead, mailDenied, s.listMessages)
	handle("POST /v1.0/me/mailFolders/{folder}/messages", scopesMailRW, mailDenied, s.createMessage)
	handle("GET /v1.0/me/mailFolders/{folder}/messages/delta", scopesMailRead, mailDenied, s.messagesDelta)
	handle("GET /v1.0/me/mailFolders/{folder}/messages/{id}", scopesMailRead, mailDenied, s.getMessage)
	handle("GET /v1.0/me/messages", scopesMailRead, mailDenied, s.listMessages)
	handle("POST /v1.0/me/messages", scopesMailRW, mailDenied, s.createMessage)
	handle("GET /v1.0/me/messages/{id}", scopesMailRead, mailDenied, s.getMessage)
	handle("PATCH /v1.0/me/messages/{id}", scopesMailRW, mailDenied, s.updateMessage)
	handle("DELETE /v1.0/me/messages/{id}", scopesMailRW, mailDenied, s.deleteMessage)
	handle("POST /v1.0/me/messages/{id}/send", scopesMailSend, mailDenied, s.withAction("send"))
	handle("POST /v1.0/me/messages/{id}/{action}", scopesMailRW, mailDenied, s.messageAction)
	for _, a := range []string{"reply", "replyAll", "forward"} {
		handle("POST /v1.0/me/messages/{id}/"+a, scopesMailSend, mailDenied, s.withAction(a))
	}
	handle("GET /v1.0/me/messages/{id}/attachments", scopesMailRead, mailDenied, s.listAttachments)
	handle("POST /v1.0/me/messages/{id}/attachments", scopesMailRW, mailDenied, s.addAttachment)
	handle("POST /v1.0/me/messages/{id}/attachments/createUploadSession", scopesMailRW, mailDenied, s.createAttachmentUploadSession)
	handle("GET /v1.0/me/messages/{id}/attachments/{att}", scopesMailRead, mailDenied, s.getAttachment)
	handle("GET /v1.0/me/messages/{id}/attachments/{att}/$value", scopesMailRead, mailDenied, s.attachmentValue)
	handle("DELETE /v1.0/me/messages/{id}/attachments/{att}", scopesMailRW, mailDenied, s.deleteAttachment)
	handle("POST /v1.0/me/sendMail", scopesMailSend, mailDenied, s.sendMail)

	handle("GET /v1.0/me/calendars", scopesCalRead, mailDenied, s.listCalendars)
	handle("GET /v1.0/me/calendar", scopesCalRead, mailDenied, s.getCalendar)
	handle("GET /v1.0/me/calendars/{calendar}", scopesCalRead, mailDenied, s.getCalendar)
	handle("GET /v1.0/me/events", scopesCalRead, mailDenied, s.listEvents)
	handle("GET /v1.0/me/calendar/events", scopesCalRead, mailDenied, s.listEvents)
	handle("GET /v1.0/me/calendars/{calendar}/events", scopesCalRead, mailDenied, s.listEvents)
	handle("GET /v1.0/me/events/{id}", scopesCalRead, mailDenied, s.getEvent)
	handle("GET /v1.0/me/events/{id}/instances", scopesCalRead, mailDenied, s.eventInstances)
	for _, p := range []string{"/v1.0/me/events", "/v1.0/me/calendar/events", "/v1.0/me/calendars/{calendar}/events"} {
		handle("POST "+p, scopesCalRW, mailDenied, s.createEvent)
	}
	handle("PATCH /v1.0/me/events/{id}", scopesCalRW, mailDenied, s.updateEvent)
	handle("DELETE /v1.0/me/events/{id}", scopesCalRW, mailDenied, s.deleteEvent)
	handle("POST /v1.0/me/events/{id}/cancel", scopesCalRW, mailDenied, s.cancelEvent)
	handle("POST /v1.0/me/events/{id}/accept", scopesCalRW, mailDenied, s.respondEvent("accepted"))
	handle("POST /v1.0/me/events/{id}/tentativelyAccept", scopesCalRW, mailDenied, s.respondEvent("tentativelyAccepted"))
	handle("POST /v1.0/me/events/{id}/decline", scopesCalRW, mailDenied, s.respondEvent("declined"))
	handle("POST /v1.0/me/findMeetingTimes", scopesCalShared, mailDenied, s.findMeetingTimes)
	handle("GET /v1.0/me/calendarView", scopesCalRead, mailDenied, s.calendarView)
	handle("GET /v1.0/me/calendar/calendarView", scopesCalRead, mailDenied, s.calendarView)
	handle("GET /v1.0/me/calendarView/delta", scopesCalRead, mailDenied, s.calendarViewDelta)
	// Graph's segments are case-insensitive; clients spell this one both ways.
	handle("POST /v1.0/me/calendar/getSchedule", scopesCalRead, mailDenied, s.getSchedule)
	handle("POST /v1.0/me/calendar/getschedule", scopesCalRead, mailDenied, s.getSchedule)
	handle("GET /v1.0/me/calendars/{calendar}/calendarView", scopesCalRead, mailDenied, s.calendarView)

	drive := func(scopes []string) http.HandlerFunc { return s.authed(scopes, driveDenied, s.serveDrive) }
	m.Handle("GET /v1.0/me/drive", drive(scopesFileRead))
	m.Handle("GET /v1.0/me/drive/", drive(scopesFileRead))
	for _, method := range []string{"PUT", "POST", "PATCH", "DELETE"} {
		m.Handle(method+" /v1.0/me/drive/", drive(scopesFileRW))
	}

	handle("GET /v1.0/me/chats", scopesChatRead, "Forbidden", s.listChats)
	for _, prefix := range []string{"/v1.0/chats/{chat}", "/v1.0/me/chats/{chat}"} {
		handle("GET "+prefix, scopesChatRead, "Forbidden", s.getChat)
		handle("GET "+prefix+"/messages", scopesChatMessages, "Forbidden", s.listChatMessages)
		handle("POST "+prefix+"/messages", scopesChatSend, "Forbidden", s.postChatMessage)
	}
	handle("GET /v1.0/me/joinedTeams", scopesTeams, "Forbidden", s.joinedTeams)
	handle("GET /v1.0/teams/{team}/channels", scopesChannels, "Forbidden", s.listChannels)
	handle("GET /v1.0/teams/{team}/channels/{channel}", scopesChannels, "Forbidden", s.getChannel)
	channel := "/v1.0/teams/{team}/channels/{channel}/messages"
	handle("GET "+channel, scopesChannelRead, "Forbidden", s.listChannelMessages)
	handle("POST "+channel, scopesChannelSend, "Forbidden", s.postChannelMessage)
	handle("GET "+channel+"/{message}/replies", scopesChannelRead, "Forbidden", s.listReplies)
	handle("POST "+channel+"/{message}/replies", scopesChannelSend, "Forbidden", s.postChannelMessage)

	handle("GET /v1.0/sites", scopesSitesRead, driveDenied, s.searchSites)
	m.Handle("/v1.0/sites/", s.authed(scopesSitesRead, driveDenied, s.serveSites))
	m.HandleFunc("/v1.0/drives/", s.serveDrives)

	m.HandleFunc("GET /sandbox-download/{token}", s.serveDownload)
	m.HandleFunc("HEAD /sandbox-download/{token}", s.serveDownload)
	m.HandleFunc("/sandbox-upload/{session}", s.serveUpload)

	m.HandleFunc("/v1.0/", func(w http.ResponseWriter, r *http.Request) {
		badRequest("BadRequest", "Resource not found for the segment '%s'.", r.URL.Path[len("/v1.0/"):]).write(w, r)
	})
}

// withAction runs messageAction for a fixed action: reply and forward need
// Mail.Send, so they have routes of their own ahead of the generic one.
func (s *Server) withAction(action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
		r.SetPathValue("action", action)
		s.messageAction(w, r, mb)
	}
}
